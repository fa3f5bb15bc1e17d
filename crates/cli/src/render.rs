//! Errors as the terminal shows them: the chain of causes joined by `: `, with the settings
//! that the libraries name by configuration key shown as the running command's flags.
//!
//! Libraries write a setting as `key = value: problem` ([`SettingError`]) and mention one in
//! prose as `` `key` ``; a key is a field name (`area_ratio`) or a dotted path of one
//! (`views.size`). A key is this command's flag when the command has a flag of the key's
//! last part in kebab case (`area_ratio`: `--area-ratio`) or one [`ALIASES`] names; other
//! keys stay as they are, since the user set them in a file.
//!
//! [`SettingError`]: corruptencoder_core::SettingError
use clap::{ArgMatches, Command};

/// Flags named otherwise than their key: (subcommand path, key, flag without `--`).
const ALIASES: &[(&str, &str, &str)] = &[
    ("pretrain", "views.size", "image-size"),
    ("poison corruptencoder", "supports", "support-images"),
    ("poison clip-carlini", "backgrounds", "images"),
    ("poison clip-carlini", "templates", "caption-templates"),
    ("poison clip-corruptencoder", "templates", "caption-templates"),
    ("testset", "format", "image-format"),
];

/// The long flags of the running subcommand.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    path: String,
    longs: Vec<String>,
}

impl Flags {
    /// The flags of the subcommand `matches` ran, found in `root`'s definitions.
    pub(crate) fn of(root: &Command, matches: &ArgMatches) -> Self {
        let (mut command, mut matches, mut path) = (root, matches, Vec::new());
        while let Some((name, sub)) = matches.subcommand() {
            let Some(next) = command.find_subcommand(name) else { break };
            path.push(name.to_owned());
            (command, matches) = (next, sub);
        }
        let longs = command.get_arguments().filter_map(|a| a.get_long()).map(String::from);
        Self { path: path.join(" "), longs: longs.collect() }
    }

    /// `--flag` for the configuration `key`, when this command has one.
    fn flag(&self, key: &str) -> Option<String> {
        let alias = ALIASES.iter().find(|(p, k, _)| *p == self.path && *k == key);
        let long = match alias {
            Some((_, _, flag)) => (*flag).to_owned(),
            None => key.rsplit('.').next().unwrap_or(key).replace('_', "-"),
        };
        self.longs.contains(&long).then(|| format!("--{long}"))
    }

    /// `text` with this command's flags in place of the keys it mentions: a leading
    /// `key = value` becomes `--flag value`, a `` `key` `` becomes `--flag`.
    fn rewrite(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Some((key, rest)) = text.split_once(" = ")
            && is_key(key)
            && let Some(flag) = self.flag(key)
        {
            out = format!("{flag} {rest}");
        }
        let mut done = String::new();
        let mut rest = out.as_str();
        while let Some(start) = rest.find('`') {
            let Some(len) = rest[start + 1..].find('`') else { break };
            let inner = &rest[start + 1..start + 1 + len];
            done += &rest[..start];
            match self.flag(inner).filter(|_| is_key(inner)) {
                Some(flag) => done += &flag,
                None => done += &rest[start..start + len + 2],
            }
            rest = &rest[start + len + 2..];
        }
        done + rest
    }
}

/// Whether `s` reads as a configuration key: lower-case words joined by `_` and `.`.
fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The error's chain of causes, joined by `: `, in this command's words.
pub(crate) fn render(err: &anyhow::Error, flags: &Flags) -> String {
    err.chain().map(|e| flags.rewrite(&e.to_string())).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(path: &str, longs: &[&str]) -> Flags {
        Flags { path: path.into(), longs: longs.iter().map(|s| (*s).into()).collect() }
    }

    #[test]
    fn keys_become_this_commands_flags_and_others_stay() {
        let f = flags("poison corruptencoder", &["area-ratio", "support-images", "force"]);
        assert_eq!(
            f.rewrite("area_ratio = 0.5: must be above 1"),
            "--area-ratio 0.5: must be above 1"
        );
        assert_eq!(
            f.rewrite("support_ratio = 0.2: needs `supports`"),
            "support_ratio = 0.2: needs --support-images"
        );
        assert_eq!(
            f.rewrite("out exists (`force` replaces it)"),
            "out exists (--force replaces it)"
        );
        assert_eq!(
            f.rewrite("attack `ssl-backdoor` and `Mixed`"),
            "attack `ssl-backdoor` and `Mixed`"
        );
        let p = flags("pretrain", &["image-size", "queue-size", "lr"]);
        assert_eq!(
            p.rewrite("views.size = 0: must be at least 1"),
            "--image-size 0: must be at least 1"
        );
        assert_eq!(p.rewrite("method.queue_size = 8: x"), "--queue-size 8: x");
        assert_eq!(p.rewrite("method.bn_splits = 3: x"), "method.bn_splits = 3: x");
    }
}
