// Benchmark page (not linked from the UI): test/bench drives it through Playwright.
export {}
