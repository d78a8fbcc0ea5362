//! When a message mentions you: your name as a whole word, ignoring case.
//! The app uses it to count and ring for mentions, the renderer to
//! highlight them.

/// Byte ranges where `name` occurs in `text` as a whole word, ignoring case.
pub fn ranges(text: &str, name: &str) -> Vec<(usize, usize)> {
    let needle: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let before_ok = i == 0 || !is_word(chars[i - 1].1);
        let mut j = i;
        let mut k = 0;
        while before_ok && k < needle.len() && j < chars.len() {
            let lower: Vec<char> = chars[j].1.to_lowercase().collect();
            if needle[k..].starts_with(&lower) {
                k += lower.len();
                j += 1;
            } else {
                break;
            }
        }
        if before_ok && k == needle.len() && (j == chars.len() || !is_word(chars[j].1)) {
            let end = chars.get(j).map_or(text.len(), |c| c.0);
            found.push((chars[i].0, end));
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_whole_words_ignoring_case() {
        assert_eq!(ranges("hi Ann!", "ann"), vec![(3, 6)]);
        assert_eq!(ranges("ann: look, ANN", "ann"), vec![(0, 3), (11, 14)]);
        assert!(ranges("annabel and joanne", "ann").is_empty());
        assert_eq!(ranges("hé zoë", "Zoë"), vec![(4, 8)]);
    }
}
