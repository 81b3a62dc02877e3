//! The gateway for real: the credentials script run as the gateway would
//! run it (with `sh`, on real key files made with `openssl`), the complete
//! config it writes read back strictly, and the JWT plugin's decision
//! (Kong's documented rule: the token's `iss` names the credential, whose
//! algorithm and public key must verify the signature, and `exp` must lie
//! ahead) taken on it; the Admin API and the trusted addresses in both
//! targets.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use platgen::model::{Credential, Platform};
use platgen::render::OutFile;
use serde::Deserialize;

use crate::render::{platform, render_all};
use crate::support::root;

fn get<'a>(files: &'a [OutFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn spec_platform(yaml: &str) -> Platform {
    let (_, outcome) = platgen::check::check_bytes("platform.yaml", yaml.as_bytes());
    let messages: Vec<&str> = outcome
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    outcome
        .platform
        .unwrap_or_else(|| panic!("does not check: {messages:?}"))
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs (.ci/run installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A key pair: (private key file, public key PEM).
fn key_pair(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let private = dir.join(format!("{name}.private.pem"));
    let p = private.to_str().unwrap();
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        p,
    ]);
    let public = String::from_utf8(openssl(&["pkey", "-in", p, "-pubout"])).unwrap();
    (private, public)
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unb64url(text: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let values: Vec<u32> = text
        .bytes()
        .map(|c| u32::try_from(A.iter().position(|a| *a == c).unwrap()).unwrap())
        .collect();
    let mut out = Vec::new();
    for chunk in values.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i) & 255) as u8);
        }
    }
    out
}

/// An RS256 token with these claims, signed with `private`.
fn token(dir: &Path, private: &Path, claims: &str) -> String {
    let signing_input = format!(
        "{}.{}",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(claims.as_bytes())
    );
    let input = dir.join("signing-input");
    std::fs::write(&input, &signing_input).unwrap();
    let signature = openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        private.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    format!("{signing_input}.{}", b64url(&signature))
}

#[derive(Debug, Deserialize)]
struct Merged {
    #[serde(rename = "_format_version")]
    _format_version: String,
    services: Vec<serde_json::Value>,
    plugins: Vec<serde_json::Value>,
    consumers: Vec<MergedConsumer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergedConsumer {
    username: String,
    tags: Vec<String>,
    #[serde(default)]
    acls: Vec<BTreeMap<String, String>>,
    #[serde(default)]
    jwt_secrets: Vec<JwtSecret>,
    #[serde(default)]
    keyauth_credentials: Vec<KeyAuth>,
    #[serde(default)]
    basicauth_credentials: Vec<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    hmacauth_credentials: Vec<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtSecret {
    key: String,
    algorithm: String,
    tags: Vec<String>,
    rsa_public_key: String,
    secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyAuth {
    #[serde(rename = "tags")]
    _tags: Vec<String>,
    key: String,
}

/// What Kong's `jwt` plugin (with `claims_to_verify: [exp]`) answers for a
/// request with this bearer token: 200 when a credential's `key` is the
/// token's `iss`, its algorithm is the token's and its public key verifies
/// the signature, and `exp` lies ahead; else 401.
fn jwt_status(dir: &Path, merged: &Merged, bearer: Option<&str>) -> u16 {
    let Some(token) = bearer else { return 401 };
    let parts: Vec<&str> = token.split('.').collect();
    let header: serde_json::Value = serde_json::from_slice(&unb64url(parts[0])).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&unb64url(parts[1])).unwrap();
    let Some(secret) = merged
        .consumers
        .iter()
        .flat_map(|c| &c.jwt_secrets)
        .find(|s| claims["iss"] == s.key.as_str())
    else {
        return 401;
    };
    if header["alg"] != secret.algorithm.as_str() {
        return 401;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return 401;
    }
    let public = dir.join("verify-key.pem");
    let signature = dir.join("signature");
    let input = dir.join("verify-input");
    std::fs::write(&public, &secret.rsa_public_key).unwrap();
    std::fs::write(&signature, unb64url(parts[2])).unwrap();
    std::fs::write(&input, format!("{}.{}", parts[0], parts[1])).unwrap();
    let ok = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(&signature)
        .arg(&input)
        .output()
        .unwrap()
        .status
        .success();
    if ok { 200 } else { 401 }
}

/// Writes the rendered gateway files and runs the credentials script on
/// `secrets`; returns its exit status, stderr and the merged file's text.
fn run_script(files: &[OutFile], dir: &Path, secrets: &Path) -> (bool, String, Option<String>) {
    std::fs::write(dir.join("kong.yml"), get(files, "kong/kong.yml")).unwrap();
    std::fs::write(
        dir.join("credentials.sh"),
        get(files, "kong/credentials.sh"),
    )
    .unwrap();
    let merged = dir.join("merged.yml");
    let _ = std::fs::remove_file(&merged);
    let out = Command::new("sh")
        .arg(dir.join("credentials.sh"))
        .arg(secrets)
        .args(["sh", "-c", "printf '%s' \"$KONG_DECLARATIVE_CONFIG\""])
        .env("PLATGEN_KONG_CONFIG", dir.join("kong.yml"))
        .env("PLATGEN_KONG_OUT", &merged)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        // The command it hands over to sees the complete config.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            merged.to_str().unwrap()
        );
    }
    (
        out.status.success(),
        stderr,
        std::fs::read_to_string(&merged).ok(),
    )
}

#[test]
fn a_jwt_route_answers_200_with_a_valid_token_and_401_without() {
    let platform = platform(&root().join("platform.yaml"));
    let files = render_all(&platform);
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let mut private = BTreeMap::new();
    let mut issuers = Vec::new();
    for c in &platform.gateway.consumers {
        for credential in &c.credentials {
            let Credential::Jwt {
                issuer, public_key, ..
            } = credential
            else {
                continue;
            };
            let (key, public) = key_pair(dir.path(), public_key);
            std::fs::write(secrets.join(public_key), public).unwrap();
            private.insert(issuer.clone(), key);
            issuers.push(issuer.clone());
        }
    }
    assert!(!issuers.is_empty(), "the root platform has JWT consumers");
    let (ok, stderr, merged) = run_script(&files, dir.path(), &secrets);
    assert!(ok, "{stderr}");
    let merged_text = merged.unwrap();
    let merged: Merged = serde_saphyr::from_str(&merged_text).unwrap();
    // The generated part is carried over unchanged.
    let generated = get(&files, "kong/kong.yml");
    let head = &generated[..generated.find("\nconsumers:\n").unwrap()];
    assert!(merged_text.starts_with(head));
    assert!(!merged.services.is_empty() && !merged.plugins.is_empty());
    let names: Vec<&str> = merged
        .consumers
        .iter()
        .map(|c| c.username.as_str())
        .collect();
    let defined: Vec<&str> = platform
        .gateway
        .consumers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, defined);
    for c in &merged.consumers {
        assert_eq!(c.tags, ["platgen"]);
        for s in &c.jwt_secrets {
            assert_eq!(s.algorithm, "RS256");
            assert_eq!(s.secret.len(), 64, "a random unused secret");
            assert_eq!(s.tags, ["platgen"]);
        }
    }
    let far = "4102444800"; // 2100-01-01
    for issuer in &issuers {
        let good = token(
            dir.path(),
            &private[issuer],
            &format!(r#"{{"iss":"{issuer}","exp":{far}}}"#),
        );
        assert_eq!(
            jwt_status(dir.path(), &merged, Some(&good)),
            200,
            "{issuer}"
        );
        let expired = token(
            dir.path(),
            &private[issuer],
            &format!(r#"{{"iss":"{issuer}","exp":1000}}"#),
        );
        assert_eq!(jwt_status(dir.path(), &merged, Some(&expired)), 401);
    }
    assert_eq!(jwt_status(dir.path(), &merged, None), 401);
    // A token signed by someone else's key, claiming a known issuer.
    let (stranger, _) = key_pair(dir.path(), "stranger");
    let forged = token(
        dir.path(),
        &stranger,
        &format!(r#"{{"iss":"{}","exp":{far}}}"#, issuers[0]),
    );
    assert_eq!(jwt_status(dir.path(), &merged, Some(&forged)), 401);
    // The routes that need it have the jwt plugin.
    for s in platform.services.iter().filter(|s| {
        s.gateway
            .as_ref()
            .is_some_and(|g| g.auth.as_deref() == Some("jwt"))
    }) {
        let service = merged
            .services
            .iter()
            .find(|k| k["name"] == s.name.as_str())
            .unwrap();
        assert!(
            service["plugins"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "jwt" && p["config"]["claims_to_verify"][0] == "exp")
        );
    }
}

const KEYED: &str = r"
name: demo
roles: {proxy: web, gateway: kong}
gateway:
  consumers:
    partner: {key_auth: {key: partner-key}}
    ops:
      basic_auth: {password: ops-password}
      hmac_auth: {secret: ops-hmac}
services:
  web:
    image: nginx:1.27.3-alpine
    ports: [{container: 80}]
    health: {http: {path: /healthz}}
    depends_on: [kong]
  feed:
    image: ghcr.io/example/feed:1.0.0
    ports: [{container: 8080}]
    health: {http: {path: /health}}
    route: {path: /feed}
    gateway: {auth: key-auth, consumers: [partner]}
  admin:
    image: ghcr.io/example/admin:1.0.0
    ports: [{container: 8080}]
    health: {http: {path: /health}}
    route: {path: /admin}
    gateway: {auth: basic-auth, consumers: [ops]}
  kong:
    image: kong:3.9.0
    ports: [{container: 8000}]
    health: {command: [kong, health]}
";

#[test]
fn keys_and_passwords_come_from_their_files_exactly_and_bad_files_stop_the_gateway() {
    let platform = spec_platform(KEYED);
    let files = render_all(&platform);
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    // Quotes, a backslash, `#`, `: ` and `$` must all arrive as written.
    let key = r#"k'ey"\#: $HOME`x`"#;
    std::fs::write(secrets.join("partner-key"), format!("{key}\n")).unwrap();
    std::fs::write(secrets.join("ops-password"), "pa ss'word").unwrap();
    std::fs::write(secrets.join("ops-hmac"), "hmac-secret\r\n").unwrap();
    let (ok, stderr, merged) = run_script(&files, dir.path(), &secrets);
    assert!(ok, "{stderr}");
    let text = merged.unwrap();
    let merged: Merged = serde_saphyr::from_str(&text).unwrap();
    let partner = &merged.consumers[0];
    assert_eq!(partner.username, "partner");
    assert_eq!(partner.keyauth_credentials[0].key, key);
    assert_eq!(partner.acls[0]["group"], "feed");
    let ops = &merged.consumers[1];
    assert_eq!(ops.basicauth_credentials[0]["password"], "pa ss'word");
    assert_eq!(ops.basicauth_credentials[0]["username"], "ops");
    assert_eq!(ops.hmacauth_credentials[0]["secret"], "hmac-secret");
    assert!(!get(&files, "kong/kong.yml").contains("pa ss"));

    // Each bad file stops the gateway, naming the secret, never its value.
    let cases: [(&str, &[u8], &str); 4] = [
        ("partner-key", b"", "missing or empty"),
        ("partner-key", b"line one\nline two\n", "one line"),
        ("partner-key", b"bell\x07", "control characters"),
        ("ops-password", b"", "missing or empty"),
    ];
    for (name, contents, says) in cases {
        let bad = dir.path().join(format!("bad-{name}-{}", contents.len()));
        std::fs::create_dir(&bad).unwrap();
        for f in ["partner-key", "ops-password", "ops-hmac"] {
            std::fs::copy(secrets.join(f), bad.join(f)).unwrap();
        }
        std::fs::write(bad.join(name), contents).unwrap();
        let (ok, stderr, merged) = run_script(&files, dir.path(), &bad);
        assert!(!ok && merged.is_none(), "{name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("line one") && !stderr.contains("bell"));
    }
}

#[test]
fn a_private_key_where_the_public_key_belongs_is_refused() {
    let platform = platform(&root().join("platform.yaml"));
    let files = render_all(&platform);
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let mut first = true;
    for c in &platform.gateway.consumers {
        for credential in &c.credentials {
            let (private, public) = key_pair(dir.path(), credential.secret());
            let contents = if first {
                std::fs::read_to_string(private).unwrap()
            } else {
                public
            };
            first = false;
            std::fs::write(secrets.join(credential.secret()), contents).unwrap();
        }
    }
    let (ok, stderr, merged) = run_script(&files, dir.path(), &secrets);
    assert!(!ok && merged.is_none());
    assert!(stderr.contains("private key"), "{stderr}");
    assert!(!stderr.contains("BEGIN"), "{stderr}");
}

/// The `environment` of one compose service, as written.
fn env_of<'a>(compose: &'a str, service: &str) -> BTreeMap<&'a str, &'a str> {
    let at = compose.find(&format!("\n  {service}:\n")).unwrap();
    compose[at + 1..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter_map(|l| {
            let (k, v) = l.trim().split_once("\": ")?;
            Some((k.strip_prefix('"')?, v.trim_matches('"')))
        })
        .collect()
}

#[test]
fn the_admin_api_stays_inside_the_gateway_and_behind_the_proxy_kong_sees_clients() {
    let root_platform = platform(&root().join("platform.yaml"));
    let gateway = root_platform.roles.gateway.clone().unwrap();
    let files = render_all(&root_platform);
    let env = env_of(get(&files, "compose.yaml"), &gateway);
    assert_eq!(env["KONG_ADMIN_LISTEN"], "127.0.0.1:8001");
    assert_eq!(env["KONG_REAL_IP_HEADER"], "X-Real-IP");
    assert_eq!(
        env["KONG_TRUSTED_IPS"],
        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
    );
    // The proxy really sends the header Kong believes.
    assert!(get(&files, "nginx/nginx.conf").contains("proxy_set_header X-Real-IP $remote_addr;"));
    let k8s = get(&files, &format!("kubernetes/{gateway}.yaml"));
    assert!(k8s.contains("\"KONG_ADMIN_LISTEN\": \"127.0.0.1:8001\""));
    assert!(!k8s.contains("8001\n") && !k8s.contains("port: 8001"));
    // The credentials script is the entrypoint in both targets, and hands
    // over to the image's own.
    assert!(get(&files, "compose.yaml").contains(
        "entrypoint: [\"/bin/sh\", \"/platgen/kong-credentials.sh\", \"/run/secrets\"]\n    command: [\"/docker-entrypoint.sh\", \"kong\", \"docker-start\"]"
    ));
    assert!(
        k8s.contains("command: [\"/bin/sh\", \"/platgen/kong-credentials.sh\", \"/run/secrets\"]")
    );
    for c in &root_platform.gateway.consumers {
        for credential in &c.credentials {
            let path = format!("mountPath: \"/run/secrets/{}\"", credential.secret());
            assert!(k8s.contains(&path), "{path}");
        }
    }

    // Off, and without a proxy in front: no trusted addresses at all.
    let alone = KEYED
        .replace(
            "roles: {proxy: web, gateway: kong}",
            "roles: {gateway: kong}\ngateway_admin: x",
        )
        .replace(
            "gateway_admin: x\ngateway:\n",
            "gateway:\n  admin: \"off\"\n",
        );
    let platform = spec_platform(&alone);
    let files = render_all(&platform);
    let env = env_of(get(&files, "compose.yaml"), "kong");
    assert_eq!(env["KONG_ADMIN_LISTEN"], "off");
    assert!(!env.contains_key("KONG_TRUSTED_IPS") && !env.contains_key("KONG_REAL_IP_HEADER"));
}
