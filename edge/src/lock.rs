//! One server per data folder: `sesame serve` holds an exclusive lock on
//! `<data-dir>/sesame.lock` for its lifetime, and `sesame restore` refuses to
//! replace a database a server is using.

use anyhow::Context;
use std::fs::File;
use std::path::Path;

/// The lock, held until dropped (or the process ends, however it ends).
pub struct DataLock(#[allow(dead_code)] File);

impl DataLock {
    /// Takes the data folder's lock, or says which folder is in use.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("sesame.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this function owns; no memory is involved.
            let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            anyhow::ensure!(taken, "a sesame server is using {}: stop it first", dir.display());
        }
        Ok(Self(file))
    }
}
