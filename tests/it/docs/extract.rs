//! Finding the `crmlens` commands of a Markdown text: shell blocks, prompts, code spans, and
//! the words of a shell line as the shell would split them.

/// One `crmlens` command found in a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// `file:line`, for messages.
    pub place: String,
    /// The arguments after `crmlens`.
    pub args: Vec<String>,
}

/// Every `crmlens` command of a Markdown text.
pub fn examples(file: &str, text: &str) -> Vec<Example> {
    let mut found = Vec::new();
    // Inside a fence: `Some(is_shell)`.
    let mut fence: Option<bool> = None;
    let mut pending = String::new();
    let mut pending_line = 0;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(matches!(
                    info.split_whitespace().next().unwrap_or(""),
                    "sh" | "bash" | "console" | "shell"
                )),
            };
            continue;
        }
        let shell_text = match fence {
            Some(true) => Some(trimmed),
            Some(false) => None,
            // Outside fences a prose line may well start with the word crmlens; a command
            // there has a prompt or the four-space indent of a Markdown code block.
            None if trimmed.starts_with("$ crmlens ")
                || (line.starts_with("    ") && trimmed.starts_with("crmlens ")) =>
            {
                Some(trimmed)
            }
            None => {
                for span in inline_code(line) {
                    if span.starts_with("crmlens ") || span == "crmlens" {
                        push_commands(&mut found, &format!("{file}:{}", i + 1), span);
                    }
                }
                None
            }
        };
        let Some(shell) = shell_text else { continue };
        // A line ending in `\` continues on the next one.
        if pending.is_empty() {
            pending_line = i + 1;
        }
        match shell.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(shell);
                let place = format!("{file}:{pending_line}");
                push_commands(&mut found, &place, &strip_prompt(&pending));
                pending.clear();
            }
        }
    }
    found
}

/// The code spans (`…`) of a line of Markdown prose.
fn inline_code(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// `$ cmd`, `host$ cmd` → `cmd`.
fn strip_prompt(line: &str) -> String {
    let line = line.trim();
    match line.split_once("$ ") {
        Some((prompt, rest)) if !prompt.contains(char::is_whitespace) => rest.trim().to_string(),
        _ => line.to_string(),
    }
}

/// The `crmlens` commands of one shell command line (a pipeline or list of commands).
fn push_commands(found: &mut Vec<Example>, place: &str, line: &str) {
    for words in shell_commands(line) {
        let mut words = words.as_slice();
        while words.first().is_some_and(|w| is_assignment(w)) {
            words = &words[1..];
        }
        let args = match words {
            [first, rest @ ..] if first == "crmlens" || first.ends_with("/crmlens") => rest,
            // `cargo run [--release] -- ARGS` runs crmlens too.
            [cargo, run, rest @ ..] if cargo == "cargo" && run == "run" => {
                match rest.iter().position(|w| w == "--") {
                    Some(dash) => &rest[dash + 1..],
                    None => continue,
                }
            }
            _ => continue,
        };
        found.push(Example {
            place: place.to_string(),
            args: args.to_vec(),
        });
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

/// Splits a shell line into commands (at `|`, `&&`, `||`, `;`, `&`) of words: quotes and
/// backslashes as the shell reads them, `# comments` and redirections (`> file`) dropped, the
/// `[…]` of optional arguments in usage lines removed.
fn shell_commands(line: &str) -> Vec<Vec<String>> {
    let mut w = Words::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                w.in_word = true;
                w.word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                w.in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.word.extend(chars.next()),
                        c => w.word.push(c),
                    }
                }
            }
            '\\' => {
                w.in_word = true;
                w.word.extend(chars.next());
            }
            '#' if !w.in_word => break,
            '|' | '&' | ';' => {
                w.end_word();
                while chars.next_if(|&n| n == '|' || n == '&').is_some() {}
                w.commands.push(vec![]);
            }
            '>' | '<' => {
                // `2>file`: the digits were the file descriptor, not a word.
                if w.word.chars().all(|c| c.is_ascii_digit()) {
                    w.word.clear();
                    w.in_word = false;
                }
                w.end_word();
                while chars.next_if(|&n| n == '>' || n == '&').is_some() {}
                w.redirect = true;
            }
            c if c.is_whitespace() => w.end_word(),
            c => {
                w.in_word = true;
                w.word.push(c);
            }
        }
    }
    w.end_word();
    w.commands.retain(|c| !c.is_empty());
    w.commands
}

/// The state of [`shell_commands`].
struct Words {
    commands: Vec<Vec<String>>,
    word: String,
    in_word: bool,
    /// The next word is a redirection's file.
    redirect: bool,
}

impl Default for Words {
    fn default() -> Words {
        Words {
            commands: vec![vec![]],
            word: String::new(),
            in_word: false,
            redirect: false,
        }
    }
}

impl Words {
    fn end_word(&mut self) {
        if !self.in_word {
            return;
        }
        let word = self.word.trim_start_matches('[').trim_end_matches(']');
        if !self.redirect && !word.is_empty() {
            let command = self.commands.last_mut().expect("one command");
            command.push(word.to_string());
        }
        self.redirect = false;
        self.word.clear();
        self.in_word = false;
    }
}
