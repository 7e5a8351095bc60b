//! Who the host is to a registry: `<NS>_REGISTRY_USERNAME` and
//! `<NS>_REGISTRY_PASSWORD`, else Docker's configuration
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`,
//! `credHelpers`, `credsStore`), else nobody. Credentials live in memory
//! only: never in the index, the lock or a log line.

use oci_client::secrets::RegistryAuth;

use crate::paths::env_var;

/// The variables that give a user name and password for every registry.
pub(crate) fn env_names(ns: &str) -> (String, String) {
    (
        env_var(ns, "REGISTRY_USERNAME"),
        env_var(ns, "REGISTRY_PASSWORD"),
    )
}

/// The credentials for `registry` (`HOST[:PORT]`).
pub(crate) fn for_registry(ns: &str, registry: &str) -> RegistryAuth {
    let (user_var, password_var) = env_names(ns);
    if let (Ok(user), Ok(password)) = (std::env::var(&user_var), std::env::var(&password_var))
        && !user.is_empty()
    {
        tracing::debug!("registry {registry}: credentials from {user_var}");
        return RegistryAuth::Basic(user, password);
    }
    // Docker Hub is `index.docker.io` to the client but
    // `https://index.docker.io/v1/` in Docker's file.
    let key = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    match docker_credential::get_credential(key) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            tracing::debug!("registry {registry}: credentials from Docker's configuration");
            RegistryAuth::Basic(user, password)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(_)) => {
            tracing::debug!(
                "registry {registry}: Docker's configuration holds an identity token, which this host does not use; anonymous"
            );
            RegistryAuth::Anonymous
        }
        Err(e) => {
            tracing::debug!("registry {registry}: no credentials ({e}); anonymous");
            RegistryAuth::Anonymous
        }
    }
}
