//! The web client, embedded into the binary at build time so the server is
//! one file to deploy and the page works offline.
//!
//! `build.rs` walks `web/` and lists every file in it, so a new page module
//! is served as soon as it exists; nothing here names a file.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The URL path it is served at (`/` for `index.html`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The asset served at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn web_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../web")
    }

    /// Every file under `dir` (hidden ones aside) as (URL path, path).
    fn files(dir: &Path, url: &str, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).expect("the web folder") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            if name.starts_with('.') {
                continue;
            }
            let here = format!("{url}/{name}");
            if path.is_dir() {
                files(&path, &here, out);
            } else {
                out.push((here, path));
            }
        }
    }

    #[test]
    fn every_file_of_the_web_folder_is_embedded_as_it_is() {
        let mut found = Vec::new();
        files(&web_dir(), "", &mut found);
        assert!(found.iter().any(|(url, _)| url == "/app.js"));
        for (url, path) in &found {
            let served = if url == "/index.html" { "/" } else { url };
            let asset = find(served).unwrap_or_else(|| panic!("web{url} is not served"));
            assert_eq!(asset.path, served);
            assert_eq!(asset.body, std::fs::read(path).expect("readable"), "{url}");
        }
        assert_eq!(
            ASSETS.len(),
            found.len(),
            "only the files of web/ are served"
        );
        assert!(find("/index.html").is_some_and(|a| a.path == "/"));
        assert!(find("/nope.js").is_none());
    }

    #[test]
    fn content_types_follow_the_extension() {
        for asset in ASSETS {
            let expected = match asset.path.rsplit_once('.').map(|(_, ext)| ext) {
                None => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                // other kinds: build.rs refuses any it has no type for
                Some(_) => continue,
            };
            assert_eq!(asset.content_type, expected, "{}", asset.path);
        }
    }

    /// Every module a page script imports (`from './x.js'`) is served, so a
    /// typo or a missing file fails here rather than in a browser.
    #[test]
    fn every_imported_module_is_served() {
        for script in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(script.body).expect("scripts are UTF-8");
            for (at, _) in text.match_indices(" from './") {
                let module = text[at + 9..].split('\'').next().expect("a closing quote");
                assert!(
                    find(&format!("/{module}")).is_some(),
                    "{} imports {module}, which is not served",
                    script.path
                );
            }
        }
        let page = std::str::from_utf8(find("/").expect("the page").body).expect("UTF-8");
        assert!(
            page.contains("<script src=\"/app.js\" type=\"module\">"),
            "the page loads app.js as a module"
        );
    }
}
