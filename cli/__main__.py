from ledgerflow.cli.main import main

main()
