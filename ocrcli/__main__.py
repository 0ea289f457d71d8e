from ocrcli.cli import main

main()
