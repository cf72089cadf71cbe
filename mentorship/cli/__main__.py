from mentorship.cli import main

main()
