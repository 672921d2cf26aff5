# Everyday commands. Each target works on a fresh machine with only cargo (no Docker).
.PHONY: build test run mock-start mock-status mock-logs mock-stop mock-rebuild test-contracts validate-dry-run

build:
	cargo build --release

test:
	cargo nextest run --workspace

run:
	cargo run --release -- generate samples/living-document.md --out out/

mock-start: ## start the mock CRM and mock Platform in the background (ports: MOCK_CRM_PORT, MOCK_PLATFORM_PORT)
	scripts/start-mock-services.sh

mock-status: ## health of every service
	REQUIRE_API=0 scripts/health-check-all.sh

mock-logs: ## the latest lines of both mock logs (under LOG_DIR, default logs/)
	@bash -c 'source scripts/lib.sh && tail -n 50 "$$LOG_DIR/crm-mock.log" "$$LOG_DIR/platform-mock.log"'

mock-stop:
	scripts/stop-mock-services.sh

mock-rebuild:
	@echo "mock-rebuild rebuilds the mock containers and needs Docker (docker compose -f docker-compose.mocks.yml build);"
	@echo "without Docker, 'cargo build --release && make mock-stop mock-start' does the same for the local mocks."

test-contracts: ## the mock services and publishers against each other
	cargo nextest run -p halcytone-mocks -p halcytone-publish

validate-dry-run:
	scripts/validate-dry-run.sh
