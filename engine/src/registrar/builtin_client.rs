//! The built-in registrar behind the [`RegistrarClient`] seam: starts a [`Registrar`]
//! registration (or none, for a node that only resolves) and resolves as it always did.

use std::sync::{Arc, Mutex};

use ergo_edf::Atom;
use ergo_proto::gen::{Route, Version};

use super::{
    builtin, Registrar, RegistrarClient, RegistrarError, RegistrarInfo, RegistrarOptions,
    Registration, StartRegistrar,
};
use crate::Node;

/// A node's use of the built-in registrar.
struct BuiltinClient {
    registration: Mutex<Option<Registrar>>,
    options: RegistrarOptions,
}

impl StartRegistrar for RegistrarOptions {
    fn start(
        &self,
        node: &Node,
        registration: Option<Registration>,
    ) -> Result<Arc<dyn RegistrarClient>, RegistrarError> {
        let reg = match registration {
            Some(r) => Some(Registrar::start(node.name(), r.routes, self.clone())?),
            None => None,
        };
        Ok(Arc::new(BuiltinClient {
            registration: Mutex::new(reg),
            options: self.clone(),
        }))
    }
}

impl RegistrarClient for BuiltinClient {
    fn is_registered(&self) -> bool {
        self.registration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(Registrar::is_registered)
    }

    fn info(&self) -> RegistrarInfo {
        let embedded_server = self
            .registration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(Registrar::is_server);
        RegistrarInfo {
            server: format!("{}:{}", self.options.tcp_host, self.options.port),
            embedded_server,
            version: Version::new("Registrar Client", "R1", "MIT"),
            support_config: false,
            support_event: false,
            support_register_application: false,
        }
    }

    fn resolve(&self, node: Atom) -> Result<Vec<Route>, RegistrarError> {
        let reg = self.registration.lock().unwrap_or_else(|e| e.into_inner());
        match reg.as_ref() {
            Some(r) => Ok(r.resolve(node, builtin::RESOLVE_TIMEOUT)?),
            None => {
                drop(reg);
                Ok(builtin::resolve(
                    node,
                    self.options.port,
                    builtin::RESOLVE_TIMEOUT,
                )?)
            }
        }
    }

    fn stop(&self) {
        if let Some(r) = self
            .registration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            r.stop();
        }
    }

    fn unsupported(&self, what: &'static str) -> RegistrarError {
        RegistrarError::Unsupported {
            registrar: "built-in",
            what,
        }
    }
}
