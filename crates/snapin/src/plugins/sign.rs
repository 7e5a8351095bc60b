//! `plugins sign REF`: signs a published version, or attaches a signature
//! made elsewhere (by `minisign -S` or `ssh-keygen -Y sign -n
//! snapin-plugin` over what `--payload` prints); with `--rotate-from`, also
//! a statement by the old key that names the new one. And what `publish
//! --sign` shares with it: reading a secret key, and attaching a signature
//! to a version as an OCI referrer of its image index.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgGroup, ArgMatches, Command};
use snapin_protocol::Manifest;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::provenance::key::PublicKey;
use crate::provenance::secret_key::SecretKey;
use crate::provenance::signature::{self, Signature};
use crate::registry::layout::Layout;
use crate::registry::oci::{self, Descriptor, Document, short};
use crate::registry::reference::Pick;
use crate::registry::store::Store;

use super::artifact::{Session, block_on, parse_reference};
use super::common::{Result, read_capped, say};

/// The clap definition of `plugins sign`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("sign")
        .about(super::registry_commands::SIGN)
        .arg(
            Arg::new("ref")
                .required(true)
                .value_name("REF")
                .help("The version: oci://HOST[:PORT]/REPO:TAG, @sha256:DIGEST, or oci-layout://DIR:REF"),
        )
        .arg(key_arg("key").help("Sign with this secret key: a minisign key or an OpenSSH private key"))
        .arg(
            Arg::new("signature")
                .long("signature")
                .value_name("FILE")
                .value_hint(clap::ValueHint::FilePath)
                .requires("signer")
                .help("Attach this signature of the --payload text, made by `minisign -S` or `ssh-keygen -Y sign -n snapin-plugin`"),
        )
        .arg(
            Arg::new("signer")
                .long("signer")
                .value_name("PUBLIC_KEY")
                .help("With --signature: the public key that made it (a key, or a file holding it)"),
        )
        .arg(
            Arg::new("payload")
                .long("payload")
                .action(clap::ArgAction::SetTrue)
                .help("Print what a signature of this version signs, and change nothing"),
        )
        .arg(key_arg("rotate-from").requires("key").help(format!(
            "Also attach a statement, signed by this old secret key, that the --key replaces it (hosts that pinned the old key accept the new one; password from {})",
            crate::paths::env_var(ns, PASSWORD)
        )))
        .group(ArgGroup::new("how").args(["key", "signature", "payload"]).required(true))
}

fn key_arg(id: &'static str) -> Arg {
    Arg::new(id)
        .long(id)
        .value_name("KEY_FILE")
        .value_hint(clap::ValueHint::FilePath)
}

/// The arguments of `plugins sign`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SignArgs {
    pub(super) reference: String,
    pub(super) key: Option<PathBuf>,
    pub(super) signature: Option<PathBuf>,
    pub(super) signer: Option<String>,
    pub(super) payload: bool,
    pub(super) rotate_from: Option<PathBuf>,
}

impl From<&ArgMatches> for SignArgs {
    fn from(m: &ArgMatches) -> SignArgs {
        let path = |id: &str| m.get_one::<String>(id).map(PathBuf::from);
        SignArgs {
            reference: m.get_one::<String>("ref").cloned().unwrap_or_default(),
            key: path("key"),
            signature: path("signature"),
            signer: m.get_one::<String>("signer").cloned(),
            payload: m.get_flag("payload"),
            rotate_from: path("rotate-from"),
        }
    }
}

/// The environment variable (after the host's prefix) a secret key's
/// password is read from: commands that sign never prompt.
pub(super) const PASSWORD: &str = "SIGNING_PASSWORD";

/// Reads the secret key at `path`.
pub(super) fn secret_key(ns: &str, path: &Path) -> Result<SecretKey> {
    let var = crate::paths::env_var(ns, PASSWORD);
    let password = std::env::var(&var).ok();
    SecretKey::load(path, password.as_deref()).map_err(|why| {
        Diagnostic::new(format!("cannot sign with {}: {why}", path.display()))
            .with_fix(format!(
                "give a minisign secret key or an OpenSSH private key; for a key with a password, set {var}"
            ))
            .into()
    })
}

/// A public key as the user typed it, or the file holding it.
pub(super) fn public_key(ns: &str, text: &str, what: &str) -> Result<PublicKey> {
    let read = if Path::new(text).is_file() {
        std::fs::read_to_string(text).map_err(|e| e.to_string())
    } else {
        Ok(text.to_string())
    };
    read.and_then(|t| PublicKey::parse(&t)).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: {text:?} is not a public key: {why}"))
            .with_fix(format!(
                "give a minisign public key (RW...), an OpenSSH public key line (ssh-ed25519 AAAA...), or a .pub file holding one; `{ns} plugins trust list` shows the ones you trust"
            ))
            .into()
    })
}

/// Attaches `signature`, made by `signer`, to the version whose index is
/// `subject`, as an artifact of `artifact_type` whose one layer is the
/// signature. Returns the artifact's descriptor.
pub(super) async fn attach(
    store: &Store,
    subject: &Descriptor,
    artifact_type: &str,
    signature: &Signature,
    signer: &PublicKey,
) -> Result<Descriptor> {
    let bytes = signature.to_bytes();
    let mut layer = Descriptor::of(signature.format().media_type(), bytes);
    layer
        .annotations
        .insert(oci::SIGNER.to_string(), signer.to_text());
    store.push_blob(oci::EMPTY).await?;
    store.push_blob(bytes).await?;
    let mut subject = subject.clone();
    subject.platform = None;
    subject.annotations = BTreeMap::new();
    let document = Document::artifact(
        artifact_type,
        vec![layer],
        Some(subject),
        BTreeMap::from([(oci::CREATED.to_string(), crate::index::now_rfc3339())]),
    );
    Ok(store.attach(&document).await?)
}

/// Signs the version of `plugin` whose index is `subject` with `key`, and
/// attaches the signature.
pub(super) async fn sign_version(
    store: &Store,
    subject: &Descriptor,
    plugin: &Manifest,
    key: &SecretKey,
    what: &str,
) -> Result<PublicKey> {
    let payload = signature::plugin_payload(&plugin.name, &plugin.version, &subject.digest);
    let signature = key.sign(&payload).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: signing failed: {why}"))
            .with_fix("check the key file")
    })?;
    let signer = key.public();
    attach(
        store,
        subject,
        oci::SIGNATURE_ARTIFACT_TYPE,
        &signature,
        &signer,
    )
    .await?;
    Ok(signer)
}

pub(super) fn run(engine: &Engine, args: &SignArgs) -> Result {
    let ns = engine.ns();
    let what = format!("sign {}", args.reference);
    let reference = parse_reference("sign", &args.reference)?;
    let tag_or_digest = match &reference.pick {
        Pick::Tag(t) => t.clone(),
        Pick::Digest(d) => d.clone(),
        Pick::Newest => {
            return Err(
                Diagnostic::new(format!("cannot {what}: name the version to sign"))
                    .with_fix(format!(
                        "add its tag: `{ns} plugins sign {}:VERSION ...`",
                        args.reference
                    ))
                    .into(),
            );
        }
    };
    // Keys first: nothing is read or pushed with a key that cannot sign.
    let key = args.key.as_deref().map(|p| secret_key(ns, p)).transpose()?;
    let old = args
        .rotate_from
        .as_deref()
        .map(|p| secret_key(ns, p))
        .transpose()?;
    let made_elsewhere = match (&args.signature, &args.signer) {
        (Some(file), Some(signer)) => {
            let signer = public_key(ns, signer, &what)?;
            let bytes = read_capped(file, signature::SIGNATURE_CAP).map_err(|why| {
                Diagnostic::new(format!(
                    "cannot {what}: cannot read {}: {why}",
                    file.display()
                ))
                .with_fix("give the file `minisign -S` or `ssh-keygen -Y sign` wrote")
            })?;
            let parsed = Signature::parse(&bytes).map_err(|why| {
                Diagnostic::new(format!(
                    "cannot {what}: {} is not a signature: {why}",
                    file.display()
                ))
                .with_fix("give the .minisig or .sig file the signing tool wrote")
            })?;
            Some((parsed, signer))
        }
        _ => None,
    };
    let mut session = Session::start(engine)?;
    let mut store = session.store(engine, &reference.repository)?;
    let cache: &Layout = &session.cache;
    let (subject, plugin) = block_on(version_of(&store, cache, &tag_or_digest, &what))?;
    let payload = signature::plugin_payload(&plugin.name, &plugin.version, &subject.digest);
    if args.payload {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&payload);
        return Ok(ExitCode::SUCCESS);
    }
    let at = format!(
        "'{}' {} ({}@sha256:{})",
        plugin.name,
        plugin.version,
        reference.repository,
        short(&subject.digest)
    );
    let signer = block_on(async {
        if let Some((signature, signer)) = &made_elsewhere {
            signature.verify(signer, &payload).map_err(|why| {
                Diagnostic::new(format!(
                    "cannot {what}: the signature is not valid for {at}: {why}"
                ))
                .with_fix(format!(
                    "sign exactly what `{ns} plugins sign {} --payload` prints, in namespace {}",
                    args.reference,
                    signature::NAMESPACE
                ))
            })?;
            attach(
                &store,
                &subject,
                oci::SIGNATURE_ARTIFACT_TYPE,
                signature,
                signer,
            )
            .await?;
            return Ok(signer.clone());
        }
        let Some(key) = &key else {
            return Err(Diagnostic::new(format!("cannot {what}: no key given")).into());
        };
        let signer = sign_version(&store, &subject, &plugin, key, &what).await?;
        if let Some(old) = &old {
            let statement = signature::rotation_payload(&plugin.name, &old.public(), &signer);
            let signed = old.sign(&statement).map_err(|why| {
                Diagnostic::new(format!("cannot {what}: signing the rotation failed: {why}"))
                    .with_fix("check the --rotate-from key file")
            })?;
            attach(
                &store,
                &subject,
                oci::ROTATION_ARTIFACT_TYPE,
                &signed,
                &old.public(),
            )
            .await?;
        }
        Ok(signer)
    })?;
    store.commit();
    session.cache.commit();
    say(&format!("signed plugin {at} with {}", signer.id()));
    if let Some(old) = &old {
        say(&format!(
            "attached a statement by {} that {} replaces it",
            old.public().id(),
            signer.id()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The version at `tag_or_digest`: its index's descriptor, and the plugin
/// manifest published with it (from its first build's config).
pub(super) async fn version_of(
    store: &Store,
    cache: &Layout,
    tag_or_digest: &str,
    what: &str,
) -> Result<(Descriptor, Manifest)> {
    let top = store.document(cache, tag_or_digest).await?;
    let manifest_digest = match &top.document.manifests {
        Some(entries) => match entries.first() {
            Some(first) => first.digest.clone(),
            None => {
                return Err(
                    Diagnostic::new(format!("cannot {what}: its index is empty"))
                        .with_fix("publish it again with `plugins publish`")
                        .into(),
                );
            }
        },
        None => top.digest.clone(),
    };
    let manifest = store.document(cache, &manifest_digest).await?.document;
    let config = manifest
        .config
        .filter(|c| c.media_type == oci::CONFIG_MEDIA_TYPE)
        .ok_or_else(|| {
            Diagnostic::new(format!(
                "cannot {what}: it has no plugin manifest to name what is signed"
            ))
            .with_fix("publish it with `plugins publish`, which writes one")
        })?;
    let path = store
        .blob(cache, &config, oci::CONFIG_CAP, "config")
        .await?;
    let plugin: Manifest = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|why| {
            Diagnostic::new(format!("cannot {what}: its config is unreadable: {why}"))
                .with_fix("publish it again with `plugins publish`")
        })?;
    Ok((top.descriptor(), plugin))
}
