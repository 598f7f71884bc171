from llmconf.cli import main

raise SystemExit(main())
