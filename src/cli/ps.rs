//! `skiff ps`: the container's processes, as a `ps` table or a JSON array of pids.

use clap::{Args, ValueEnum};

use super::Context;

/// `--format` of ps.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PsFormat {
    /// `ps` output limited to the container's processes.
    Table,
    /// The pids as a JSON array (what containerd reads).
    Json,
}

// Arguments of `ps`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Select one of: table or json.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: PsFormat,
    /// The container id.
    pub id: String,
    /// Options for ps(1) (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub fn run(args: PsArgs, context: &Context) -> anyhow::Result<i32> {
    let pids = skiff::container::processes(&context.store, &args.id)?;
    context.debug(&format!("ps: container {} has pids {pids:?}", args.id));
    match args.format {
        PsFormat::Json => {
            // runc encodes an empty list as null.
            if pids.is_empty() { println!("null") } else { println!("{}", serde_json::to_string(&pids)?) }
        }
        PsFormat::Table => {
            let ps_args = if args.ps_args.is_empty() { vec!["-ef".to_string()] } else { args.ps_args };
            let output = std::process::Command::new("ps").args(&ps_args).output().map_err(|e| anyhow::anyhow!("run ps {}: {e}", ps_args.join(" ")))?;
            if !output.status.success() {
                anyhow::bail!("ps {}: {}", ps_args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
            }
            print!("{}", filter_ps_output(&String::from_utf8_lossy(&output.stdout), &pids)?);
        }
    }
    Ok(0)
}

/// Keep the header and the lines whose PID column holds one of `pids`.
fn filter_ps_output(text: &str, pids: &[i32]) -> anyhow::Result<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let column = header.split_whitespace().position(|h| h == "PID").ok_or_else(|| anyhow::anyhow!("ps output has no PID column: {header:?}"))?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line.split_whitespace().nth(column).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_header_and_container_lines() {
        let text = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 00:00 ? 00:00:01 init\nroot 42 1 0 00:00 ? 00:00:00 sleep 10\n";
        assert_eq!(filter_ps_output(text, &[42]).unwrap(), "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 00:00 ? 00:00:00 sleep 10\n");
        assert!(filter_ps_output("USER COMMAND\n", &[1]).is_err());
    }
}
