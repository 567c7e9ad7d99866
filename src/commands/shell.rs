//! Shell completion scripts and the man page, generated from the clap definition so they never drift from the CLI.

use crate::cli::{Cli, CompletionsArgs, ManpageArgs};
use anyhow::Context;
use clap::CommandFactory;

/// `pystats-gate completions SHELL`: the completion script on stdout.
pub fn cmd_completions(args: &CompletionsArgs) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    completion_script(args.shell, &mut out);
    crate::output::stdout(&out)?;
    Ok(crate::error::EXIT_PASS)
}

/// The completion script of `shell` for the whole CLI.
pub fn completion_script(shell: clap_complete::Shell, out: &mut Vec<u8>) {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// `pystats-gate manpage`: the roff man page (section 1) on stdout, or every command's page
/// into `--out-dir`.
pub fn cmd_manpage(args: &ManpageArgs) -> anyhow::Result<i32> {
    match &args.out_dir {
        Some(dir) => {
            // An output directory like any other: new, empty or ours, pages replaced atomically.
            crate::output::claim_dir(dir, &[])?;
            for (name, page) in pages()? {
                crate::output::write_in_claimed_dir(dir, &name, &page)?;
            }
        }
        None => crate::output::stdout(&manpage()?)?,
    }
    Ok(crate::error::EXIT_PASS)
}

/// Every command's page (file name, roff), as `clap_mangen::generate_to` would write them.
fn pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    fn collect(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            collect(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page).context("rendering a man page")?;
        out.push((man.get_filename(), page));
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = vec![];
    collect(cmd, &mut out)?;
    Ok(out)
}

/// The man page of the top-level command, listing every subcommand.
pub fn manpage() -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("rendering the man page")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_is_in_the_bash_completions_and_the_man_page() {
        let mut bash = Vec::new();
        completion_script(clap_complete::Shell::Bash, &mut bash);
        let bash = String::from_utf8(bash).unwrap();
        let page = String::from_utf8(manpage().unwrap()).unwrap();
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            assert!(bash.contains(name), "bash completions lack {name}");
            // roff escapes the hyphen of `bisect-step`.
            let roff_name = name.replace('-', "\\-");
            assert!(page.contains(&roff_name), "man page lacks {roff_name}");
        }
    }
}
