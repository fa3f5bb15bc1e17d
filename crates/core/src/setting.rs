//! Setting one value of a registry's settings by key, for sweeps and command-line flags
//! that apply to some variants only.
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SettingError;

/// Sets the number `key` of `settings` (a serde-tagged registry entry whose tag field is
/// `tag`) to `value`, through its serde form: an integral value fills an integer field.
/// `name` names the entry in the error when it has no such setting.
pub fn set_number<T: Serialize + DeserializeOwned>(
    settings: &mut T,
    (tag, name): (&str, &str),
    key: &str,
    value: f64,
) -> Result<(), SettingError> {
    let mut v = serde_json::to_value(&*settings).expect("settings serialise");
    let slot = v
        .get_mut(key)
        .filter(|_| key != tag)
        .ok_or_else(|| SettingError::new(key, value, format!("`{name}` has no such setting")))?;
    *slot = if value.fract() == 0.0 && value.abs() < 9.0e15 {
        serde_json::Value::from(value as i64)
    } else {
        serde_json::Value::from(value)
    };
    *settings =
        serde_json::from_value(v).map_err(|e| SettingError::new(key, value, e.to_string()))?;
    Ok(())
}
