fn main() -> std::process::ExitCode {
    hb_cli::runs::main()
}
