//! The five capability sets of `process.capabilities`, applied with the `caps` crate.

use std::str::FromStr;

use caps::{CapSet, Capability as Cap, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

/// Errors applying capabilities.
#[derive(Debug, thiserror::Error)]
pub enum CapabilityError {
    /// The kernel refused to change a set.
    #[error("set {set} capabilities to {caps}")]
    Set {
        /// Which set.
        set: &'static str,
        /// The requested content.
        caps: String,
        /// What the caps crate reported.
        #[source]
        source: caps::errors::CapsError,
    },
    /// Reading the current sets failed.
    #[error("read {set} capabilities")]
    Read {
        /// Which set.
        set: &'static str,
        /// What the caps crate reported.
        #[source]
        source: caps::errors::CapsError,
    },
}

/// The capability sets to apply, converted from the spec and limited to what this kernel knows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CapabilityPlan {
    /// Bounding set.
    pub bounding: CapsHashSet,
    /// Effective set.
    pub effective: CapsHashSet,
    /// Permitted set.
    pub permitted: CapsHashSet,
    /// Inheritable set.
    pub inheritable: CapsHashSet,
    /// Ambient set.
    pub ambient: CapsHashSet,
}

/// Convert spec names (`CAP_SYS_ADMIN` ...) to the caps crate's values. Capabilities this
/// kernel does not know are left out, as runc does (it warns and carries on).
pub fn plan_capabilities(spec: Option<&LinuxCapabilities>, supported: &CapsHashSet) -> CapabilityPlan {
    let convert = |set: Option<&Capabilities>| -> CapsHashSet {
        set.map(|s| s.iter().filter_map(|c| Cap::from_str(&format!("CAP_{c}")).ok()).filter(|c| supported.contains(c)).collect()).unwrap_or_default()
    };
    let Some(spec) = spec else { return CapabilityPlan::default() };
    CapabilityPlan {
        bounding: convert(spec.bounding().as_ref()),
        effective: convert(spec.effective().as_ref()),
        permitted: convert(spec.permitted().as_ref()),
        inheritable: convert(spec.inheritable().as_ref()),
        ambient: convert(spec.ambient().as_ref()),
    }
}

/// The capabilities this kernel supports.
pub fn supported_capabilities() -> CapsHashSet {
    caps::runtime::thread_all_supported()
}

/// Drop everything outside the bounding set. Needs CAP_SETPCAP, so runs before the user switch.
pub fn apply_bounding(plan: &CapabilityPlan) -> Result<(), CapabilityError> {
    let current = caps::read(None, CapSet::Bounding).map_err(|source| CapabilityError::Read { set: "bounding", source })?;
    for cap in current.difference(&plan.bounding) {
        caps::drop(None, CapSet::Bounding, *cap).map_err(|source| CapabilityError::Set { set: "bounding", caps: format!("without {cap}"), source })?;
    }
    Ok(())
}

/// Set inheritable, permitted, effective and ambient, in the order the kernel allows:
/// inheritable while the full permitted set still covers it, effective within the new
/// permitted, ambient last (it must be inside both permitted and inheritable).
pub fn apply_process_sets(plan: &CapabilityPlan) -> Result<(), CapabilityError> {
    let set = |which: CapSet, name: &'static str, caps: &CapsHashSet| {
        caps::set(None, which, caps).map_err(|source| CapabilityError::Set { set: name, caps: names(caps), source })
    };
    set(CapSet::Inheritable, "inheritable", &plan.inheritable)?;
    // Effective must stay within permitted at every step: shrink effective first.
    let effective_now: CapsHashSet = plan.effective.intersection(&plan.permitted).copied().collect();
    set(CapSet::Effective, "effective", &effective_now)?;
    set(CapSet::Permitted, "permitted", &plan.permitted)?;
    set(CapSet::Effective, "effective", &plan.effective)?;
    caps::clear(None, CapSet::Ambient).map_err(|source| CapabilityError::Set { set: "ambient", caps: String::new(), source })?;
    // The kernel only lets a capability be ambient if it is permitted and inheritable;
    // runc silently skips the others (its default spec lists ambient caps without
    // inheritable ones), and so does skiff.
    for cap in plan.ambient.iter().filter(|c| plan.permitted.contains(c) && plan.inheritable.contains(c)) {
        caps::raise(None, CapSet::Ambient, *cap).map_err(|source| CapabilityError::Set { set: "ambient", caps: cap.to_string(), source })?;
    }
    Ok(())
}

/// runc's warnings for ambient capabilities the kernel will not raise: an ambient
/// capability must also be inheritable and permitted (the others are skipped).
pub fn ambient_warnings(spec: Option<&LinuxCapabilities>) -> Vec<String> {
    let Some(spec) = spec else { return Vec::new() };
    let has = |set: &Option<oci_spec::runtime::Capabilities>, cap| set.as_ref().is_some_and(|set| set.contains(cap));
    let mut warnings: Vec<String> = spec
        .ambient()
        .iter()
        .flatten()
        .filter(|cap| !has(spec.inheritable(), cap) || !has(spec.permitted(), cap))
        .map(|cap| format!("can't raise ambient capability CAP_{cap}: operation not permitted"))
        .collect();
    warnings.sort();
    warnings
}

fn names(caps: &CapsHashSet) -> String {
    let mut names: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    names.sort();
    if names.is_empty() { "(none)".into() } else { names.join(",") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_filters_by_kernel_support() {
        let spec: LinuxCapabilities = serde_json::from_str(r#"{"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"],"ambient":[]}"#).unwrap();
        let supported: CapsHashSet = [Cap::CAP_KILL].into_iter().collect();
        let plan = plan_capabilities(Some(&spec), &supported);
        assert_eq!(plan.bounding, supported);
        assert_eq!(plan.effective, supported);
        assert!(plan.permitted.is_empty() && plan.inheritable.is_empty() && plan.ambient.is_empty());
    }

    #[test]
    fn no_capabilities_section_means_none() {
        assert_eq!(plan_capabilities(None, &caps::all()), CapabilityPlan::default());
    }
}
