fn main() -> std::process::ExitCode {
    hb_cli::rm::main()
}
