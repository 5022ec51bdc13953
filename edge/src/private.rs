//! The data folder holds secrets at rest (the database and its WAL, keys, the
//! outbox's links and codes, credential files): it is private to the service's user.

use std::path::Path;

/// From now on, files and folders this process creates are its user's alone
/// (umask 077): SQLite's WAL and shared-memory files included.
pub fn restrict_new_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets this process's file-mode creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Folders 0700 and files 0600, from `dir` down (what an older version, or a copy,
/// left readable). Links are not followed.
pub fn tighten(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(dir)?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        if meta.is_dir() {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            for entry in std::fs::read_dir(dir)? {
                tighten(&entry?.path())?;
            }
        } else if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}
