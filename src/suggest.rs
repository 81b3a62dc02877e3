//! "Did you mean" for misspelt names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| {
            let distance = strsim::damerau_levenshtein(&word_lower, &c.to_lowercase());
            (distance, c)
        })
        .filter(|(distance, c)| {
            let (a, b) = (word.chars().count(), c.chars().count());
            // One edit for short words, about one in three for longer ones,
            // and never so many that nothing of the word is left (`9` is not
            // a typo of `1`).
            *distance <= (a.max(b) / 3).max(1) && *distance < a.min(b)
        })
        .min_by_key(|(distance, c)| (*distance, *c))
        .map(|(_, c)| c)
}

/// `help: did you mean `x`?`, when there is an `x`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let keys = ["depends_on", "ports", "image", "health"];
        assert_eq!(closest("depend_on", keys), Some("depends_on"));
        assert_eq!(closest("helth", keys), Some("health"));
        assert_eq!(closest("Image", keys), Some("image"));
        assert_eq!(closest("zookeeper", keys), None);
        assert_eq!(closest("x", keys), None);
        assert_eq!(closest("9", ["1", "2A"]), None);
        assert_eq!(closest("2a", ["1", "2A"]), Some("2A"));
    }
}
