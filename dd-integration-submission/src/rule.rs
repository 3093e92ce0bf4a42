//! What `validate` reports: one [`Finding`] a broken rule, each naming its [`Rule`].

use std::fmt;

pub use dd_integration_facts::rules::{Rule, Severity, Source};

/// One problem in a submission folder.
///
/// Displays as one line: `manifest.json: tile.description is 93 characters; the limit is 80`,
/// or with a line number, `metadata.csv:3: metric_type `histogram` is not gauge, count or rate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The rule broken.
    pub rule: Rule,
    /// The file, relative to the folder (`assets/oauth_clients.json`).
    pub file: String,
    /// The line in that file, where the rule is about one line.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Finding {
    /// A finding; its file and message are made one printable line here, whatever folder
    /// text a rule quotes in them (a pull request's files could otherwise put newlines or
    /// terminal escapes into CI's output).
    ///
    /// A rule that cannot refuse a folder (its source is a convention, see
    /// [`Rule::severity`]) gives a warning here, whatever the check asked for.
    pub(crate) fn error(rule: Rule, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: rule.severity(),
            rule,
            file: printable(file),
            line: None,
            message: printable(&message.into()),
        }
    }

    pub(crate) fn warning(rule: Rule, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(rule, file, message)
        }
    }

    pub(crate) fn at_line(mut self, line: usize) -> Finding {
        self.line = Some(line);
        self
    }

    /// Whether this finding must be fixed before submitting.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `text` with every control character escaped (`\n`, `\u{1b}`), so that it prints as one line.
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}
