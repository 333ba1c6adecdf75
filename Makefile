# The PEC lifecycle platform. `make run` starts the whole system locally; `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
FUNCTIONS := OrdersFunction:orders MembersFunction:members MailboxesFunction:mailboxes \
             BatchesFunction:batches MailboxActionsFunction:mailboxactions \
             ProviderCallbackFunction:providercallback ActivationFunction:activation \
             BatchTaskFunction:batchtask MailboxTaskFunction:mailboxtask BatchScheduleFunction:batchschedule \
             INIPECSyncFunction:inipecsync INIPECFunction:inipec \
             ImportsFunction:imports ImportJobFunction:importjob \
             RequestsFunction:requests RegindeFunction:reginde RegindePageFunction:regindepage \
             ExpiryFunction:expiry ProviderPollFunction:providerpoll QuotaWatchFunction:quotawatch \
             EmailEventsFunction:emailevents DocumentUploadsFunction:documentuploads
BUILD_DIR ?= .local/build
BUILD_ARCH ?= arm64
GOBUILD   := CGO_ENABLED=0 GOOS=linux GOARCH=$(BUILD_ARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: help deps browser run test test-providers test-faults test-unit lint fmt-check vet build token invoke deploy clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

deps: ## install the local cloud's emulators into .local/ (pinned; cached)
	@bash infra/scripts/install-deps.sh

browser: ## Debian's chromium at /usr/bin/chromium, for the activation page's browser test (apt)
	@bash infra/scripts/install-chromium.sh

run: deps ## the whole system on this machine (API on :3000); PARAMETER_OVERRIDES='Name=Value ...', FAST=1; Ctrl-C stops it
	@$(GO) run ./infra/cmd/localcloud

test: deps browser fmt-check vet lint ## everything that proves it works, against the real emulators
	$(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory test-providers
	@$(MAKE) --no-print-directory test-faults

# The lifecycle end-to-end suite again on each published provider API's stand-in (the whole
# suite above ran on the webhook protocol's). Legalmail joins the list once it is built.
PROVIDER_SUITE := TestLifecycle_|TestSelfService_|TestExpiry_|TestProviderKind_|TestPrivacy_TheProviderReceivesTheMinimum
test-providers: deps ## the lifecycle suite on the Aruba and Legalmail stand-ins (PROVIDER=aruba, legalmail)
	@set -e; for k in aruba legalmail; do echo "== PROVIDER=$$k"; \
	  PROVIDER=$$k $(GO) test -count=1 -timeout 10m -run '$(PROVIDER_SUITE)' ./infra/localcloud/; done

# Alone in its process: it switches faults on in the local cloud and takes the provider down.
test-faults: deps ## the lifecycle with AWS calls failing (FAULTS_SEED=n to reproduce), the provider down
	PEC_FAULTS=1 $(GO) test -count=1 -timeout 10m -run 'TestFaults_' ./infra/localcloud/

# The bootstraps' start is timed on a copy built for this machine when it cannot run arm64.
HOST_ARCH = $(shell $(GO) env GOHOSTARCH)
BENCH_PATHS ?= bootstrap,import,export,enrol,click,cost
bench: ## each bootstrap's size and start; import and export 100 000 members; enrolment, click and per-mailbox cost through the host; BENCH_PATHS=scale: a batch of 2 000 to ATTIVATA
	@set -e; if [[ ,$(BENCH_PATHS), == *,bootstrap,* ]]; then $(MAKE) -s build >/dev/null; \
	  if [ $(HOST_ARCH) != arm64 ]; then $(MAKE) -s build BUILD_ARCH=$(HOST_ARCH) BUILD_DIR=$(BUILD_DIR)-$(HOST_ARCH) >/dev/null; fi; fi
	@if [[ "$(BENCH_PATHS)" != bootstrap ]]; then $(MAKE) -s deps; fi
	@mkdir -p .local/bench && $(GO) build -o .local/bench/pecbench ./infra/bench && .local/bench/pecbench -paths $(BENCH_PATHS) \
	  -bootstraps $(BUILD_DIR) $(if $(filter-out arm64,$(HOST_ARCH)),-native $(BUILD_DIR)-$(HOST_ARCH) \
	  -native-note '; started: the same build for linux/$(HOST_ARCH) (this machine)')

test-unit: ## the use cases on fakes and every other pure test (no emulators; seconds)
	$(GO) test -count=1 -short ./shared/...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Its own local cloud on free ports, loopback only; about 7 minutes (LOAD_RATES=10,40 LOAD_DURATION=10s: shorter).
.PHONY: load
load: deps ## a mixed portal load through the host (vegeta) at rising rates next to its DynamoDB floor: the highest sustained rate
	@mkdir -p .local/load && $(GO) build -o .local/load/pecload ./infra/load && .local/load/pecload

lint: ## cfn-lint on template.yaml (with the SAM transform)
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing: pip install cfn-lint"; exit 1; }
	cfn-lint template.yaml

build: ## cross-compile every function to a static linux/arm64 bootstrap in .local/build/<LogicalId>/
	@set -e; for f in $(FUNCTIONS); do id=$${f%%:*}; dir=$${f##*:}; \
	  $(GOBUILD) -o $(BUILD_DIR)/$$id/bootstrap ./functions/$$dir; \
	  printf '%-20s %s\n' $$id "$$(du -h $(BUILD_DIR)/$$id/bootstrap | cut -f1)"; done

# sam build runs `make --makefile <this file> build-<LogicalId>` with ARTIFACTS_DIR set, in a
# scratch copy of the repository root (Metadata: BuildMethod makefile, ProjectRootDirectory and
# ContextPath .), so the paths here are relative to the root (infra/localcloud/sam_build_test.go).
$(foreach f,$(FUNCTIONS),$(eval build-$(word 1,$(subst :, ,$(f))): ; $(GOBUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(word 2,$(subst :, ,$(f)))))

ROLE  ?= federation
ORDER ?=
token: ## print a local portal token: make token ROLE=federation | make token ROLE=order ORDER=<id> [SUB=<person>]
	@$(GO) run ./infra/cmd/token -role $(ROLE) $(if $(ORDER),-order $(ORDER)) $(if $(SUB),-sub '$(SUB)')

invoke: deps ## run one function with an event, as sam local invoke does: make invoke FN=<LogicalId> EVENT=events/<file>.json
	@$(GO) run ./infra/cmd/invoke -fn "$(FN)" -event "$(EVENT)"

# The first run makes samconfig.toml (git-ignored) from samconfig.example.toml and stops until its
# CHANGE-ME values are set. sam build builds in the source folder when the SAM CLI can
# (--build-in-source): otherwise it copies the repository, .local included, once per function.
deploy: ## sam validate, sam build and sam deploy with samconfig.toml (made from samconfig.example.toml); README "Operations and deploying"
	@command -v sam >/dev/null || { echo "the AWS SAM CLI is missing: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"; exit 1; }
	@if [ ! -f samconfig.toml ]; then cp samconfig.example.toml samconfig.toml; \
	  echo "samconfig.toml made from samconfig.example.toml: set every CHANGE-ME in it, then run make deploy again."; exit 1; fi
	@if grep -nE '^[^#]*CHANGE-ME' samconfig.toml; then echo "samconfig.toml: set the CHANGE-ME values above first."; exit 1; fi
	sam validate --lint
	@flags=$$(sam build --help 2>/dev/null | grep -q -- --build-in-source && echo --build-in-source); \
	  echo "sam build $$flags"; sam build $$flags
	sam deploy

clean: ## remove build output (keeps the installed emulators)
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-* .aws-sam
