from vocalsplit.cli import main

main()
