//! Plugins shipped as OCI artifacts: the references users type, the
//! documents a version is made of, a registry or a layout to read them
//! from, the download cache, and the lock file.
//!
//! | file | what it owns |
//! |---|---|
//! | reference.rs | `oci://` and `oci-layout://` references |
//! | platform.rs | which machine a file runs on, from its header |
//! | oci.rs | image indexes, manifests, descriptors, media types |
//! | layout.rs | an OCI image layout on disk (also the download cache) |
//! | credentials.rs | who the host is to a registry |
//! | remote.rs | a registry repository, through `oci-client` |
//! | store.rs | a registry or a layout behind one interface |
//! | artifact.rs | which version and build a host can run; what publish writes |
//! | lockfile.rs | the lock file |
//!
//! Only the commands that name a registry build a runtime and a client:
//! start-up, dispatch, help, completion, `list` and `info` never touch the
//! network.

pub(crate) mod artifact;
pub(crate) mod credentials;
pub(crate) mod layout;
pub(crate) mod lockfile;
pub(crate) mod oci;
pub(crate) mod platform;
pub(crate) mod reference;
pub(crate) mod remote;
pub(crate) mod store;

/// A runtime for the registry client: one thread, started by the command
/// that needs it.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, std::io::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}
