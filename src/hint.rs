//! "Did you mean": the candidate closest to a mistyped name, for every message that names
//! something unknown (configuration keys, tables, columns, segments, analyses, commands).

/// The candidate closest to `name` by edit distance, if it is plausibly a typo of it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
