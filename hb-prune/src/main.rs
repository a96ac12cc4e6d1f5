fn main() -> std::process::ExitCode {
    hb_cli::prune::main()
}
