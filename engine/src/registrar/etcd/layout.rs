//! The etcd registrar's data layout, as Go's `ergo.services/registrar/etcd` keeps it: key paths,
//! route values (base64 of EDF), configuration values (`int:`, `float:`, `bool:` prefixes)
//! and the four-level configuration hierarchy. Pure: no I/O.
//!
//! Keys (`{c}` the cluster, `{n}` a node, `{a}` an application):
//! - `services/ergo/cluster/{c}/routes/nodes/{n}` — the node's `[]gen.Route`;
//! - `services/ergo/cluster/{c}/routes/applications/{a}/{n}` — a `gen.ApplicationRoute`;
//! - configuration, highest priority first: `services/ergo/config/{c}/{n}/{item}`,
//!   `services/ergo/cluster/{c}/config/{n}/{item}`, `services/ergo/cluster/{c}/config/*/{item}`,
//!   `services/ergo/config/global/{item}`.

use std::collections::HashMap;

use base64::Engine;
use ergo_edf::Atom;
use ergo_proto::gen::{ApplicationRoute, Route};

use super::EtcdError;
use crate::registrar::ConfigValue;

/// Everything the registrar keeps lives under this prefix (the one watch covers it).
pub const PREFIX: &str = "services/ergo";

/// The key paths of one cluster.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The cluster's name.
    pub cluster: String,
    /// `services/ergo/cluster/{c}/routes/` (also the registrar event's name, as Go names it).
    pub routes: String,
    /// `services/ergo/cluster/{c}/routes/nodes/`.
    pub nodes: String,
    /// `services/ergo/cluster/{c}/routes/applications/`.
    pub apps: String,
    /// `services/ergo/cluster/{c}/config/`.
    pub config: String,
    /// `services/ergo/config/`.
    pub global_config: String,
}

impl Paths {
    /// The paths of `cluster`.
    pub fn new(cluster: &str) -> Paths {
        Paths {
            cluster: cluster.to_string(),
            routes: format!("{PREFIX}/cluster/{cluster}/routes/"),
            nodes: format!("{PREFIX}/cluster/{cluster}/routes/nodes/"),
            apps: format!("{PREFIX}/cluster/{cluster}/routes/applications/"),
            config: format!("{PREFIX}/cluster/{cluster}/config/"),
            global_config: format!("{PREFIX}/config/"),
        }
    }

    /// The key of `node`'s routes.
    pub fn node_key(&self, node: Atom) -> String {
        format!("{}{}", self.nodes, node)
    }

    /// The key of `app` on `node`.
    pub fn app_key(&self, app: Atom, node: Atom) -> String {
        format!("{}{}/{}", self.apps, app, node)
    }

    /// The prefix of every node's route for `app`.
    pub fn app_prefix(&self, app: Atom) -> String {
        format!("{}{}/", self.apps, app)
    }
}

/// A node's routes as stored: base64 (standard, padded) of the EDF encoding of `[]gen.Route`.
pub fn encode_routes(routes: &[Route]) -> Result<String, EtcdError> {
    let v: Vec<Route> = routes.to_vec();
    let bytes = ergo_edf::to_vec(&v).map_err(|e| EtcdError::Value(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes a stored node value (see [`encode_routes`]).
pub fn decode_routes(value: &[u8]) -> Result<Vec<Route>, EtcdError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|e| EtcdError::Value(format!("routes: {e}")))?;
    ergo_edf::from_slice::<Vec<Route>>(&bytes).map_err(|e| EtcdError::Value(e.to_string()))
}

/// An application route as stored: base64 of the EDF encoding of `gen.ApplicationRoute`.
pub fn encode_app(route: &ApplicationRoute) -> Result<String, EtcdError> {
    let bytes = ergo_edf::to_vec(route).map_err(|e| EtcdError::Value(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes a stored application route (see [`encode_app`]).
pub fn decode_app(value: &[u8]) -> Result<ApplicationRoute, EtcdError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|e| EtcdError::Value(format!("application route: {e}")))?;
    ergo_edf::from_slice::<ApplicationRoute>(&bytes).map_err(|e| EtcdError::Value(e.to_string()))
}

/// A configuration value from its stored text: `int:`, `float:` and `bool:` convert (as Go's
/// `strconv`); a prefix whose rest does not parse, or no prefix, leaves the text as it is.
pub fn parse_config_value(text: &str) -> ConfigValue {
    if let Some(rest) = text.strip_prefix("int:") {
        if let Ok(v) = rest.parse::<i64>() {
            return ConfigValue::Int(v);
        }
    } else if let Some(rest) = text.strip_prefix("float:") {
        if let Ok(v) = rest.parse::<f64>() {
            return ConfigValue::Float(v);
        }
    } else if let Some(rest) = text.strip_prefix("bool:") {
        // Go's strconv.ParseBool.
        match rest {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => return ConfigValue::Bool(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => return ConfigValue::Bool(false),
            _ => {}
        }
    }
    ConfigValue::String(text.to_string())
}

/// The configuration items relevant to one node, by their key relative to a config path
/// (`{n}/{item}`, `*/{item}`, `global/{item}`, `{c}/{n}/{item}`).
#[derive(Debug, Default, Clone)]
pub struct ConfigStore {
    items: HashMap<String, ConfigValue>,
}

/// Which config path a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigScope {
    /// `services/ergo/cluster/{c}/config/`.
    Cluster,
    /// `services/ergo/config/`.
    Global,
}

impl ConfigStore {
    /// The relative key of a full etcd key, if it is a well-formed config key relevant to
    /// `node` in `cluster` (Go keeps only those), with the item it sets.
    pub fn relevant<'k>(
        paths: &Paths,
        node: Atom,
        key: &'k str,
    ) -> Option<(ConfigScope, &'k str, &'k str)> {
        let (scope, rel) = if let Some(rel) = key.strip_prefix(paths.config.as_str()) {
            (ConfigScope::Cluster, rel)
        } else if let Some(rel) = key.strip_prefix(paths.global_config.as_str()) {
            (ConfigScope::Global, rel)
        } else {
            return None;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let node = node.as_str();
        match parts[..] {
            [scope_or_node, item]
                if scope_or_node == node || scope_or_node == "*" || scope_or_node == "global" =>
            {
                Some((scope, rel, item))
            }
            [cluster, n, item] if cluster == paths.cluster && n == node => Some((scope, rel, item)),
            _ => None,
        }
    }

    /// Sets (`Some`) or removes (`None`) a relative key.
    pub fn set(&mut self, rel: &str, value: Option<ConfigValue>) {
        match value {
            Some(v) => {
                self.items.insert(rel.to_string(), v);
            }
            None => {
                self.items.remove(rel);
            }
        }
    }

    /// How many items are kept.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The effective value of `item` for `node` of `cluster`, highest priority first:
    /// cross-cluster node-specific, cluster node-specific, cluster-wide, global.
    pub fn lookup(&self, cluster: &str, node: Atom, item: &str) -> Option<ConfigValue> {
        let node = node.as_str();
        [
            format!("{cluster}/{node}/{item}"),
            format!("{node}/{item}"),
            format!("*/{item}"),
            format!("global/{item}"),
        ]
        .iter()
        .find_map(|k| self.items.get(k).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_config_values_convert_by_prefix_as_go() {
        assert_eq!(parse_config_value("int:123"), ConfigValue::Int(123));
        assert_eq!(parse_config_value("int:-7"), ConfigValue::Int(-7));
        assert_eq!(parse_config_value("float:0.75"), ConfigValue::Float(0.75));
        assert_eq!(parse_config_value("bool:true"), ConfigValue::Bool(true));
        assert_eq!(parse_config_value("bool:F"), ConfigValue::Bool(false));
        assert_eq!(
            parse_config_value("int:12x"),
            ConfigValue::String("int:12x".into())
        );
        assert_eq!(
            parse_config_value("hello"),
            ConfigValue::String("hello".into())
        );
    }

    #[test]
    fn etcd_config_hierarchy_prefers_the_most_specific_level() {
        let p = Paths::new("prod");
        let me = Atom::new("web1@h");
        let mut s = ConfigStore::default();
        let keys = [
            ("services/ergo/config/global/x", "g"),
            ("services/ergo/cluster/prod/config/*/x", "c"),
            ("services/ergo/cluster/prod/config/web1@h/x", "n"),
            ("services/ergo/config/prod/web1@h/x", "cn"),
            ("services/ergo/config/other/web1@h/x", "elsewhere"),
            ("services/ergo/cluster/prod/config/web2@h/x", "not me"),
        ];
        let mut want = Vec::new();
        for (k, v) in keys {
            if let Some((_, rel, item)) = ConfigStore::relevant(&p, me, k) {
                assert_eq!(item, "x");
                s.set(rel, Some(parse_config_value(v)));
                want.push(v);
            }
        }
        assert_eq!(want, ["g", "c", "n", "cn"]);
        for expect in ["cn", "n", "c", "g"] {
            assert_eq!(
                s.lookup("prod", me, "x"),
                Some(ConfigValue::String(expect.into()))
            );
            let rel = match expect {
                "cn" => "prod/web1@h/x",
                "n" => "web1@h/x",
                "c" => "*/x",
                _ => "global/x",
            };
            s.set(rel, None);
        }
        assert_eq!(s.lookup("prod", me, "x"), None);
    }
}
