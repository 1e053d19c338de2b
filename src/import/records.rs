//! Splitting CSV text into records, as RFC 4180 says and as the `csv` crate reads a
//! well-formed file (a property test compares the two): fields separated by the delimiter,
//! records by `\n`, `\r\n` or `\r`; a field that starts with a quote runs to its closing
//! quote, and `""` inside it is one quote; a quote inside an unquoted field is text.
//!
//! What the `csv` crate forgives, this reader reports: a quote never closed, or a closing
//! quote followed by something other than the delimiter, a line end or spaces. Both mean a
//! stray quote, which would otherwise swallow every record after it into one field (one
//! import lost 277 of 286 rows so). The record is cut at the end of the line where the quote
//! opened, reported with what was expected, and reading goes on from the next line: a stray
//! quote costs its own record only.

/// One record: where it starts, its fields, or (`problem`) why it is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The fields; for a record with a stray quote, its text (up to the end of the line where
    /// the quote opened) as one field.
    pub fields: Vec<String>,
    pub problem: Option<String>,
}

/// The records of a CSV text, in order; blank lines are skipped.
pub struct Records {
    text: Vec<u8>,
    pos: usize,
    line: u64,
    delimiter: u8,
}

/// A stray quote: where it opened, and what followed the closing quote (None: never closed).
struct Stray {
    open: usize,
    open_line: u64,
    line: u64,
    after: Option<char>,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: the closing one, or the first of `""`.
    QuoteInQuoted,
    /// Spaces after a closing quote.
    AfterQuote,
}

impl Records {
    pub fn new(text: Vec<u8>, delimiter: u8) -> Records {
        Records {
            text,
            pos: 0,
            line: 1,
            delimiter,
        }
    }

    /// The byte offset reached (for progress).
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// Consumes a line end at `pos` (`\n`, `\r\n` or `\r`); returns the position after it.
    fn line_end(&mut self, pos: usize) -> usize {
        self.line += 1;
        if self.text[pos] == b'\r' && self.text.get(pos + 1) == Some(&b'\n') {
            pos + 2
        } else {
            pos + 1
        }
    }

    /// Reads one record from `self.pos`.
    fn record(&mut self) -> Result<Vec<String>, Stray> {
        let mut fields = Vec::new();
        let mut field: Vec<u8> = Vec::new();
        let mut state = State::FieldStart;
        let (mut open, mut open_line) = (0, 0);
        let mut pos = self.pos;
        let text_field = |f: &mut Vec<u8>| {
            String::from_utf8(std::mem::take(f))
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        };
        loop {
            let Some(&b) = self.text.get(pos) else {
                if state == State::Quoted {
                    self.pos = pos;
                    return Err(Stray {
                        open,
                        open_line,
                        line: self.line,
                        after: None,
                    });
                }
                fields.push(text_field(&mut field));
                self.pos = pos;
                return Ok(fields);
            };
            match state {
                State::FieldStart if b == b'"' => {
                    state = State::Quoted;
                    (open, open_line) = (pos, self.line);
                    pos += 1;
                }
                State::FieldStart | State::Unquoted | State::QuoteInQuoted | State::AfterQuote
                    if b == self.delimiter =>
                {
                    fields.push(text_field(&mut field));
                    state = State::FieldStart;
                    pos += 1;
                }
                State::FieldStart | State::Unquoted | State::QuoteInQuoted | State::AfterQuote
                    if b == b'\n' || b == b'\r' =>
                {
                    fields.push(text_field(&mut field));
                    self.pos = self.line_end(pos);
                    return Ok(fields);
                }
                State::FieldStart | State::Unquoted => {
                    state = State::Unquoted;
                    field.push(b);
                    pos += 1;
                }
                State::Quoted => {
                    if b == b'"' {
                        state = State::QuoteInQuoted;
                    } else {
                        field.push(b);
                        let lone_cr = b == b'\r' && self.text.get(pos + 1) != Some(&b'\n');
                        if b == b'\n' || lone_cr {
                            self.line += 1;
                        }
                    }
                    pos += 1;
                }
                State::QuoteInQuoted if b == b'"' => {
                    field.push(b'"');
                    state = State::Quoted;
                    pos += 1;
                }
                State::QuoteInQuoted | State::AfterQuote if b == b' ' || b == b'\t' => {
                    field.push(b);
                    state = State::AfterQuote;
                    pos += 1;
                }
                State::QuoteInQuoted | State::AfterQuote => {
                    let window = &self.text[pos..(pos + 4).min(self.text.len())];
                    let after = String::from_utf8_lossy(window)
                        .chars()
                        .next()
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    self.pos = pos;
                    return Err(Stray {
                        open,
                        open_line,
                        line: self.line,
                        after: Some(after),
                    });
                }
            }
        }
    }
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.pos >= self.text.len() {
                return None;
            }
            let (start, line) = (self.pos, self.line);
            match self.record() {
                Ok(fields) if fields.len() == 1 && fields[0].is_empty() => continue,
                Ok(fields) => {
                    return Some(Record {
                        line,
                        fields,
                        problem: None,
                    });
                }
                Err(stray) => return Some(self.cut(start, line, stray)),
            }
        }
    }
}

impl Records {
    /// The record with a stray quote, cut at the end of the line where the quote opened;
    /// reading goes on after that line.
    fn cut(&mut self, start: usize, line: u64, stray: Stray) -> Record {
        let end = self.text[stray.open..]
            .iter()
            .position(|b| matches!(b, b'\n' | b'\r'))
            .map_or(self.text.len(), |i| stray.open + i);
        self.line = stray.open_line;
        self.pos = if end < self.text.len() {
            self.line_end(end)
        } else {
            end
        };
        let raw = String::from_utf8_lossy(&self.text[start..end]).into_owned();
        let problem = match stray.after {
            None => format!(
                "stray quote: the quote opened on line {} is never closed (it would take the \
                 rest of the file into one field); expected a closing quote before the end of \
                 its line, and a quote inside a quoted value written twice (\"\")",
                stray.open_line
            ),
            Some(c) => format!(
                "stray quote: the quote opened on line {} closes on line {} followed by {c:?}, \
                 where the delimiter or the end of the line was expected (a quote inside a \
                 quoted value is written twice: \"\")",
                stray.open_line, stray.line
            ),
        };
        Record {
            line,
            fields: vec![raw],
            problem: Some(problem),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(u64, Vec<String>, bool)> {
        Records::new(text.as_bytes().to_vec(), b',')
            .map(|r| (r.line, r.fields, r.problem.is_some()))
            .collect()
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>, bool) {
        (line, fields.iter().map(|f| f.to_string()).collect(), false)
    }

    #[test]
    fn quotes_line_ends_and_blank_lines() {
        assert_eq!(
            read("a,b\r\n\"x,\"\"y\"\"\",z\r\n\r\n\"multi\nline\",2\rlast,\"\" "),
            vec![
                row(1, &["a", "b"]),
                row(2, &["x,\"y\"", "z"]),
                row(4, &["multi\nline", "2"]),
                row(6, &["last", " "]),
            ]
        );
        assert_eq!(read("a\"b,c\n"), vec![row(1, &["a\"b", "c"])]);
    }

    #[test]
    fn a_stray_quote_costs_its_own_line() {
        let got = read("h1,h2\n1,\"open\n2,x\n3,\"y\"\n4,z\n");
        assert_eq!(got[0], row(1, &["h1", "h2"]));
        assert_eq!(got[1], (2, vec!["1,\"open".to_string()], true));
        assert_eq!(
            &got[2..],
            &[
                row(3, &["2", "x"]),
                row(4, &["3", "y"]),
                row(5, &["4", "z"])
            ]
        );
        let never = read("h\n\"a\nb\nc");
        assert_eq!(never[1], (2, vec!["\"a".to_string()], true));
        assert_eq!(&never[2..], &[row(3, &["b"]), row(4, &["c"])]);
    }
}
