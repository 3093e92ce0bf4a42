//! A submission folder in memory: what `validate` reads and what `render` keeps values from.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::SubmissionError;

/// The files of an integration's folder (`acme_pager/` in integrations-extras), by path
/// relative to it with `/` separators (`assets/oauth_clients.json`).
///
/// Reading and validating are kept apart: [`Folder::read`] loads a directory once, and
/// [`validate`](super::validate) works on the loaded files, so tests build folders in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    name: Option<String>,
    files: BTreeMap<String, Vec<u8>>,
}

/// The most files a folder may hold: integrations hold dozens; more means the wrong directory.
const MAX_FILES: usize = 10_000;

impl Folder {
    /// An empty folder without a name.
    pub fn new() -> Folder {
        Folder::default()
    }

    /// An empty folder named `name` (the directory name, `acme_pager`).
    pub fn named(name: &str) -> Folder {
        Folder {
            name: Some(name.to_owned()),
            files: BTreeMap::new(),
        }
    }

    /// Reads every file under `dir`.
    pub fn read(dir: &Path) -> Result<Folder, SubmissionError> {
        if !dir.is_dir() {
            return Err(SubmissionError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        // Canonical, so that `.` is named too.
        let mut folder = Folder {
            name: dir
                .canonicalize()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())),
            files: BTreeMap::new(),
        };
        folder.read_dir(dir, "")?;
        Ok(folder)
    }

    /// Reads `dir` when it exists; `None` when it does not.
    pub fn read_if_exists(dir: &Path) -> Result<Option<Folder>, SubmissionError> {
        if dir.exists() {
            Folder::read(dir).map(Some)
        } else {
            Ok(None)
        }
    }

    fn read_dir(&mut self, dir: &Path, prefix: &str) -> Result<(), SubmissionError> {
        let io = |path: &Path, source| SubmissionError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut entries = fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io(dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let file_type = entry.file_type().map_err(|e| io(&path, e))?;
            // A symlinked directory is not followed: it could loop.
            if file_type.is_dir() {
                self.read_dir(&path, &format!("{relative}/"))?;
            } else if path.is_file() {
                if self.files.len() >= MAX_FILES {
                    return Err(SubmissionError::TooManyFiles {
                        path: dir.to_path_buf(),
                        limit: MAX_FILES,
                    });
                }
                let contents = fs::read(&path).map_err(|e| io(&path, e))?;
                self.files.insert(relative, contents);
            }
        }
        Ok(())
    }

    /// The directory's name, when known.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Adds or replaces the file at `path`.
    pub fn insert(&mut self, path: &str, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.to_owned(), contents.into());
    }

    /// Removes the file at `path`.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }

    /// The bytes of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// The file at `path` as text; `Some(Err(..))` when it is not UTF-8.
    pub fn text(&self, path: &str) -> Option<Result<&str, std::str::Utf8Error>> {
        self.get(path).map(std::str::from_utf8)
    }

    /// Whether the folder holds a file at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Every file's path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Writes every file under `dir`, creating directories as needed.
    pub fn write_to(&self, dir: &Path) -> Result<(), SubmissionError> {
        for (path, contents) in &self.files {
            write_file(&dir.join(path), contents)?;
        }
        Ok(())
    }
}

/// Writes `contents` to `path`, creating its directory.
pub(crate) fn write_file(path: &Path, contents: &[u8]) -> Result<(), SubmissionError> {
    let io = |path: PathBuf, source| SubmissionError::Io { path, source };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io(parent.to_path_buf(), e))?;
    }
    fs::write(path, contents).map_err(|e| io(path.to_path_buf(), e))
}
