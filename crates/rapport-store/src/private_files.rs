//! Files for the service user alone.
//!
//! The SQLite database, its write-ahead log and shared-memory index, and the key that
//! seals secrets hold every ticket, customer and credential; nobody else on the machine
//! may read them. The data directory is made `0700` and the database file `0600` before
//! SQLite opens it: SQLite creates the `-wal` and `-shm` files with the mode of the
//! database file, so they follow. Files an older version left world-readable are
//! tightened on open. (On systems without Unix permissions these are no-ops.)

use std::path::Path;

/// The mode of the data directory: its owner alone may list, enter or write it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file in it: its owner alone may read or write it.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) readable by its owner alone, or tightens it to that
/// if it exists.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)?;
    restrict(dir, DIR_MODE)
}

/// Makes sure the SQLite database at `path` and the files SQLite keeps beside it
/// (`-wal`, `-shm`, `-journal`) are readable by their owner alone: creates the database
/// file empty with that mode if it does not exist yet (SQLite then copies the mode to the
/// others), and tightens the ones that exist.
pub fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    drop(options.open(path)?);
    restrict(path, FILE_MODE)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        match restrict(Path::new(&side), FILE_MODE) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

/// Sets `path`'s permission bits to `mode` unless they are already no wider.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(path: &Path, _mode: u32) -> std::io::Result<()> {
    std::fs::metadata(path).map(|_| ())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_and_old_files_end_up_private() {
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("x.db");
        prepare_sqlite_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let wal = dir.join("x.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        prepare_sqlite_file(&db).unwrap();
        assert_eq!((mode(&dir), mode(&wal)), (0o700, 0o600));
    }
}
