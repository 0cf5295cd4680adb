//! Limits and usage: recorded before start, read and written on the running container's cgroup
//! (like `docker update` and `docker stats`).

use super::{Container, Status};
use crate::cgroups::{self, Cgroup};
use crate::error::{Result, StateError};

impl Container {
    /// Changes a resource limit: recorded before start, written to the cgroup while running.
    pub fn set_limit(&mut self, key: &str, value: &str) -> Result<()> {
        match (&self.status, &self.cgroup) {
            (Status::Created, _) => Ok(cgroups::set_limit(&mut self.spec.resources, key, value)?),
            (Status::Running { .. }, Some(cg)) => Ok(cg.set(key, value)?),
            _ => Err(StateError::Exited.into()),
        }
    }

    fn running_cgroup(&self) -> Result<&Cgroup> {
        match (&self.status, &self.cgroup) {
            (Status::Running { .. }, Some(cg)) => Ok(cg),
            _ => Err(StateError::NotRunning.into()),
        }
    }

    /// The current value of a limit, read back from the running container's cgroup.
    pub fn get_limit(&self, key: &str) -> Result<String> {
        Ok(self.running_cgroup()?.get(key)?)
    }

    /// Usage counters of the running container.
    pub fn stats(&self) -> Result<cgroups::Stats> {
        Ok(self.running_cgroup()?.stats()?)
    }
}
