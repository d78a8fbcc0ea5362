//! Map links for shared locations. The wire carries only coordinates;
//! clients build links with these helpers (or the same formats), so no
//! user-supplied URL is ever shown.

/// Coordinates are printed with 6 decimals (about 0.1 m), enough for any
/// map and stable in tests.
fn coord(v: f64) -> String {
    format!("{v:.6}")
}

/// OpenStreetMap link with a marker at the position.
pub fn openstreetmap_url(latitude: f64, longitude: f64) -> String {
    let (lat, lon) = (coord(latitude), coord(longitude));
    format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}")
}

/// Google Maps link, the format the original tutorials used.
pub fn google_maps_url(latitude: f64, longitude: f64) -> String {
    format!(
        "https://www.google.com/maps?q={},{}",
        coord(latitude),
        coord(longitude)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_coordinates() {
        assert_eq!(
            openstreetmap_url(51.5, -0.125),
            "https://www.openstreetmap.org/?mlat=51.500000&mlon=-0.125000#map=16/51.500000/-0.125000"
        );
        assert_eq!(
            google_maps_url(-33.8688, 151.2093),
            "https://www.google.com/maps?q=-33.868800,151.209300"
        );
    }
}
