fn main() -> std::process::ExitCode {
    hb_cli::completions::main()
}
