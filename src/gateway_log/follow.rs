//! Following a log like `tail -F`: new lines as they are written, across rotation
//! (the path names a new file) and truncation (the file got shorter); or standard
//! input (`kubectl logs -f … | mtls-console --gateway-log -`). A thread of its
//! own does the blocking reads, so nothing else ever waits on the file.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File { path: PathBuf, from_start: bool },
    Stdin,
}

impl Source {
    /// `-` is standard input.
    pub fn new(arg: &str, from_start: bool) -> Self {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File {
                path: PathBuf::from(arg),
                from_start,
            }
        }
    }
}

/// How often a file is checked for new lines, rotation and truncation.
pub const POLL: Duration = Duration::from_millis(200);
/// Lines sent at most in one batch.
const BATCH: usize = 4096;

/// Starts following; batches of lines arrive on the channel until it is closed.
/// A file is opened before this returns, so following "from the end" means from
/// the end as it was at this call.
pub fn start(source: Source, tx: mpsc::Sender<Vec<String>>) {
    let name = "gateway-log".to_string();
    let _ = match source {
        Source::Stdin => std::thread::Builder::new()
            .name(name)
            .spawn(move || read_stdin(&tx)),
        Source::File { path, from_start } => {
            let first = open(&path, !from_start);
            std::thread::Builder::new()
                .name(name)
                .spawn(move || follow_file(&path, first, &tx))
        }
    };
}

fn read_stdin(tx: &mpsc::Sender<Vec<String>>) {
    read_stream(std::io::stdin(), tx);
}

fn read_stream(input: impl Read, tx: &mpsc::Sender<Vec<String>>) {
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, input);
    let (mut batch, mut line) = (Vec::new(), String::new());
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => batch.push(line.trim_end_matches(['\n', '\r']).to_string()),
        }
        // What is already buffered goes in the same batch; a pipe that delivers a
        // line at a time gets each one sent at once.
        if (batch.len() >= BATCH || reader.buffer().is_empty())
            && tx.blocking_send(std::mem::take(&mut batch)).is_err()
        {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
}

struct Open {
    file: File,
    ino: u64,
    pos: u64,
}

fn open(path: &PathBuf, at_end: bool) -> Option<Open> {
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let pos = if at_end { meta.len() } else { 0 };
    file.seek(SeekFrom::Start(pos)).ok()?;
    Some(Open {
        file,
        ino: meta.ino(),
        pos,
    })
}

fn follow_file(path: &PathBuf, first: Option<Open>, tx: &mpsc::Sender<Vec<String>>) {
    let mut current = first;
    let mut partial = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if tx.is_closed() {
            return;
        }
        let mut lines = Vec::new();
        if let Some(o) = current.as_mut() {
            // Truncated in place: start again from its beginning.
            if o.file.metadata().is_ok_and(|m| m.len() < o.pos) {
                let _ = o.file.seek(SeekFrom::Start(0));
                o.pos = 0;
                partial.clear();
            }
            while let Ok(n) = o.file.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o.pos += n as u64;
                split(&buf[..n], &mut partial, &mut lines);
                if lines.len() >= BATCH {
                    break;
                }
            }
        }
        // Rotated: the path names another file (or none yet). The old one was
        // read to its end above; the new one is read from its start.
        let rotated = match (&current, std::fs::metadata(path)) {
            (Some(o), Ok(m)) => m.ino() != o.ino,
            (None, Ok(_)) => true,
            (_, Err(_)) => false,
        };
        let idle = lines.is_empty();
        if !lines.is_empty() && tx.blocking_send(lines).is_err() {
            return;
        }
        if rotated {
            if !partial.is_empty() {
                let last = String::from_utf8_lossy(&std::mem::take(&mut partial)).into_owned();
                let _ = tx.blocking_send(vec![last]);
            }
            current = open(path, false);
            continue;
        }
        if idle {
            std::thread::sleep(POLL);
        }
    }
}

fn split(data: &[u8], partial: &mut Vec<u8>, lines: &mut Vec<String>) {
    let mut rest = data;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        partial.extend_from_slice(&rest[..i]);
        lines.push(String::from_utf8_lossy(partial).into_owned());
        partial.clear();
        rest = &rest[i + 1..];
    }
    partial.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    fn append(path: &PathBuf, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Receives until `n` lines arrived (generous deadline).
    fn take(rx: &mut mpsc::Receiver<Vec<String>>, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(20);
        let mut got = Vec::new();
        while got.len() < n {
            match rx.try_recv() {
                Ok(b) => got.extend(b),
                Err(_) => {
                    assert!(Instant::now() < until, "got only {got:?}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        got
    }

    #[test]
    fn follows_from_the_end_across_rotation_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.log");
        append(&path, "old 1\nold 2\n");
        let (tx, mut rx) = mpsc::channel(64);
        start(
            Source::File {
                path: path.clone(),
                from_start: false,
            },
            tx,
        );
        append(&path, "new 1\nnew ");
        append(&path, "2\n");
        assert_eq!(
            take(&mut rx, 2),
            ["new 1", "new 2"],
            "from the end, whole lines"
        );

        // Rotation: renamed away, a new file at the path.
        append(&path, "last of the old\n");
        std::fs::rename(&path, dir.path().join("gw.log.1")).unwrap();
        append(&path, "first of the new\n");
        assert_eq!(take(&mut rx, 2), ["last of the old", "first of the new"]);

        // Truncation in place (to less than was read, so it shows whenever the
        // follower looks).
        std::fs::write(&path, "cut\n").unwrap();
        assert_eq!(take(&mut rx, 1), ["cut"]);
    }

    #[test]
    fn a_stream_is_read_to_its_end_in_batches() {
        let text: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
        let (tx, mut rx) = mpsc::channel(10_000);
        read_stream(std::io::Cursor::new(text.into_bytes()), &tx);
        drop(tx);
        let mut got = Vec::new();
        let mut batches = 0;
        while let Ok(b) = rx.try_recv() {
            batches += 1;
            got.extend(b);
        }
        assert_eq!(got.len(), 10_000);
        assert_eq!(
            (got[0].as_str(), got[9_999].as_str()),
            ("line 0", "line 9999")
        );
        assert!(
            batches < 100,
            "buffered lines travel together: {batches} batches"
        );
    }

    #[test]
    fn from_start_reads_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.log");
        append(&path, "a\nb\n");
        let (tx, mut rx) = mpsc::channel(64);
        start(Source::new(path.to_str().unwrap(), true), tx);
        assert_eq!(take(&mut rx, 2), ["a", "b"]);
    }
}
