//! `skiff-docgen OUT`: skiff's man pages and shell completions, generated from the clap
//! definitions the runtime itself parses with (`src/cli`, included here), so they cannot
//! drift from the flags. Writes OUT/man8/skiff.8 and OUT/man8/skiff-COMMAND.8 (runc's
//! section 8), OUT/completions/skiff.bash, OUT/completions/_skiff (zsh) and
//! OUT/completions/skiff.fish.

#[allow(dead_code, unused_imports)]
#[path = "../../../src/cli/mod.rs"]
mod cli;

use std::path::Path;

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let out = std::env::args_os().nth(1).context("usage: skiff-docgen OUT_DIR")?;
    let out = Path::new(&out);
    let mut command = cli::full_tree().version(skiff::VERSION);
    command.build();
    write_man_pages(&command, &out.join("man8"))?;
    write_completions(&mut command, &out.join("completions"))?;
    Ok(())
}

/// skiff(8) and one page per command, skiff-run(8) and the rest, each listing the command's
/// flags and arguments (the bundle's among them).
fn write_man_pages(command: &clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let page = |command: clap::Command, name: &str| -> anyhow::Result<()> {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(command).section("8").render(&mut bytes).with_context(|| format!("render {name}(8)"))?;
        let path = dir.join(format!("{name}.8"));
        std::fs::write(&path, bytes).with_context(|| format!("write {}", path.display()))
    };
    page(command.clone(), "skiff")?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        // (a generator that runs once: the name may live as long as the process)
        let name: &'static str = Box::leak(format!("skiff-{}", sub.get_name()).into_boxed_str());
        page(sub.clone().name(name), name)?;
    }
    Ok(())
}

/// Completions for bash, zsh and fish, under the names their packages look for.
fn write_completions(command: &mut clap::Command, dir: &Path) -> anyhow::Result<()> {
    use clap_complete::{Shell, generate_to};
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = generate_to(shell, command, "skiff", dir).with_context(|| format!("generate {shell} completions"))?;
        let name = match shell {
            Shell::Bash => "skiff.bash",
            Shell::Zsh => "_skiff",
            _ => "skiff.fish",
        };
        if path.file_name().is_some_and(|n| n != name) {
            std::fs::rename(&path, dir.join(name)).with_context(|| format!("rename {}", path.display()))?;
        }
    }
    Ok(())
}
