//! Summaries for people on a terminal: a plain text table whose columns are as wide as their
//! widest cell, numbers aligned right. The one way crmlens lines up summary text (the nightly
//! run, segment snapshots, the import report), so every summary reads alike.

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A text table: an optional header, rows of cells, columns separated by two spaces, every
/// line indented by two spaces.
#[derive(Debug, Default)]
pub struct TextTable {
    align: Vec<Align>,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl TextTable {
    /// A table with these column alignments.
    pub fn new(align: &[Align]) -> Self {
        TextTable {
            align: align.to_vec(),
            ..TextTable::default()
        }
    }

    /// A header line above the rows.
    pub fn header(mut self, names: &[&str]) -> Self {
        self.header = Some(names.iter().map(|n| n.to_string()).collect());
        self
    }

    /// Adds a row; missing trailing cells are empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The lines: the header (when there is one), then one per row, in order; each without its
    /// newline and with trailing spaces trimmed.
    pub fn lines(&self) -> Vec<String> {
        let all: Vec<&Vec<String>> = self.header.iter().chain(&self.rows).collect();
        let columns = all.iter().map(|r| r.len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                all.iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        all.iter()
            .map(|r| {
                let cells: Vec<String> = (0..columns)
                    .map(|c| {
                        let text = r.get(c).map(String::as_str).unwrap_or("");
                        let pad = " ".repeat(widths[c] - text.chars().count());
                        match self.align.get(c).copied().unwrap_or(Align::Left) {
                            Align::Left => format!("{text}{pad}"),
                            Align::Right => format!("{pad}{text}"),
                        }
                    })
                    .collect();
                format!("  {}", cells.join("  ")).trim_end().to_string()
            })
            .collect()
    }

    /// The whole table, one line each with its newline.
    pub fn render(&self) -> String {
        self.lines().iter().map(|l| format!("{l}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_take_the_widest_cell_and_numbers_align_right() {
        let mut t = TextTable::new(&[Align::Left, Align::Right]).header(&["name", "n"]);
        t.row(vec!["champions".into(), "7".into()]);
        t.row(vec!["vip".into(), "1234".into()]);
        assert_eq!(
            t.render(),
            "  name          n\n  champions     7\n  vip        1234\n"
        );
    }

    #[test]
    fn short_rows_and_unicode_widths() {
        let mut t = TextTable::new(&[Align::Left, Align::Left]);
        t.row(vec!["Ёлка".into(), "x".into()]);
        t.row(vec!["ab".into()]);
        assert_eq!(t.lines(), vec!["  Ёлка  x", "  ab"]);
    }
}
