# SPDX-License-Identifier: LGPL-2.1-or-later
# ipredir - plain Makefile.  make [V=1] [WERROR=0] | make test | make demo |
# make install | make uninstall | make check-abi | make deb
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

# The version is written once, in include/ipredir.h; the soname follows its
# major number (bumped when the ABI breaks).
VERSION := $(shell sed -n 's/^\#define IPR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' \
		include/ipredir.h | paste -sd.)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

CC      ?= cc
O       ?= build
CFLAGS  ?= -O2 -g
# WERROR=1 (the default, and CI) turns warnings into errors; packagers build
# with WERROR=0 so that a newer compiler's new warning does not fail them.
WERROR  ?= 1
WFLAGS  := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow \
	   -Wstrict-prototypes -Wmissing-prototypes
DEPFLAGS := -MMD -MP
PUB     := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WFLAGS)
BASE    := $(PUB) -Ilib
SAN     ?=
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif
MNL_CFLAGS := $(shell pkg-config --cflags libmnl 2>/dev/null)
MNL_LIBS   := $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(O)/lib/%.o)
LIB_PIC  := $(LIB_SRC:lib/%.c=$(O)/lib/%.pic.o)
SONAME   := libipredir.so.$(SOMAJOR)
TOOL_SRC := $(sort $(wildcard tools/*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
PROG_SRC := $(sort $(wildcard tests/progs/*.c))
SHIM_SRC := $(sort $(wildcard tests/shim/*.c))

STATIC   := $(O)/libipredir.a
SHARED   := $(O)/libipredir.so.$(VERSION)
TOOL_OBJ := $(TOOL_SRC:tools/%.c=$(O)/tools/%.o)
TOOL     := $(O)/bin/ipredir
EXAMPLES := $(EX_SRC:examples/%.c=$(O)/examples/%)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)
PROGS    := $(PROG_SRC:tests/progs/%.c=$(O)/tests/progs/%)
SHIMS    := $(SHIM_SRC:tests/shim/%.c=$(O)/tests/shim/%.so)

all: $(STATIC) $(SHARED) $(TOOL) $(EXAMPLES) $(O)/ipredir.pc
tests-build: all $(UNITS) $(PROGS) $(SHIMS)

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) $(MNL_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(O)/lib/%.pic.o: lib/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) $(MNL_CFLAGS) -fvisibility=hidden -fPIC -c -o $@ $<

$(STATIC): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_PIC) lib/libipredir.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libipredir.map \
		-Wl,--no-undefined $(CFLAGS) $(LDFLAGS) -o $@ $(LIB_PIC) $(MNL_LIBS)
	$(Q)ln -sf $(notdir $@) $(O)/$(SONAME) && ln -sf $(SONAME) $(O)/libipredir.so

# The tool sees the public header and, by its path, lib/tool_api.h (the
# library's internal API for the tools: table names, the table dump, /proc
# readers), never the rest of lib/; it links the static archive, which has
# that API (the shared library exports only the public one), so it also
# runs from the build directory without the .so.
$(O)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(PUB) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -Itools -c -o $@ $<

TOOL_LIBS := $(STATIC) $(MNL_LIBS)
TOOL_DEP  := $(STATIC)
$(TOOL): $(TOOL_OBJ) $(TOOL_DEP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $(TOOL_OBJ) $(TOOL_LIBS) -lpcap -lpthread -lm $(LDFLAGS)

# Examples are what users write: the public header alone, linked against the
# shared library (so a broken version script fails the build).
$(O)/examples/%: examples/%.c $(SHARED)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PUB) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -o $@ $< -L$(O) -lipredir \
		-Wl,-rpath,'$$ORIGIN/..' -lpthread $(LDFLAGS)

$(O)/tests/unit/%: tests/unit/%.c $(STATIC)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -Itests -o $@ $(filter %.c,$^) $(STATIC) $(MNL_LIBS) -lpthread $(LDFLAGS)

# The kernel-program interpreter, shared with fuzz/fuzz_filter.c.
$(O)/tests/unit/test_filter: tests/kprog_run.c tests/kprog_run.h

$(O)/tests/progs/%: tests/progs/%.c tests/progs/stop.h $(STATIC)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -Itests -o $@ $< $(STATIC) $(MNL_LIBS) -lpthread $(LDFLAGS)

# LD_PRELOAD shims that make system calls fail on purpose (no sanitizer:
# they load before its runtime).
$(O)/tests/shim/%.so: tests/shim/%.c tests/shim/shim.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE) -O2 -g -fPIC -shared -o $@ $< -ldl

# (written again at install time: PREFIX and LIBDIR may differ there)
PCSED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	-e 's|@VERSION@|$(VERSION)|'
$(O)/ipredir.pc: ipredir.pc.in include/ipredir.h
	@mkdir -p $(@D)
	$(Q)$(PCSED) $< > $@

deps:
	$(Q)scripts/deps

# The whole suite: unit tests, then the namespace integration tests.
test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run $(TESTS)

unit: tests-build
	$(Q)tests/run unit

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo

check-sanitize: deps
	$(Q)$(MAKE) --no-print-directory O=build-san SAN=address,undefined tests-build
	$(Q)O=build-san tests/run $(TESTS)

# The multi-threaded tests under ThreadSanitizer: any report ends the
# program with status 66, which fails its test.  (passthru_intact is left
# out: its pinning check counts threads, and TSan adds one of its own.)
TSAN_TESTS ?= unit fault_hang fault_concurrent fault_send
check-tsan: deps
	$(Q)$(MAKE) --no-print-directory O=build-tsan SAN=thread tests-build
	$(Q)O=build-tsan TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" \
		tests/run $(TSAN_TESTS)

# The suite on Debian's stock kernels under QEMU (tests/vm/README.md):
# make vmtest KERNEL=5.10|6.1|6.12 [TESTS='unit =killnine'], make vmtest-all.
KERNEL     ?= 6.1
VM_KERNELS ?=
vm-deps:
	$(Q)scripts/deps --vm

vmtest: vm-deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/vm/run $(KERNEL) $(TESTS)

vmtest-all: vm-deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)TESTS='$(TESTS)' tests/vm/all $(VM_KERNELS)

# libFuzzer harnesses, one per parser; FUZZ_SECONDS each (CI: a short run).
FUZZ_SRC     := $(sort $(wildcard fuzz/*.c))
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(O)/fuzz/%)
FUZZ_SECONDS ?= 30
# A harness includes the parser's .c file, or (FUZZ_LINK_name) is linked
# with the sources it names.
FUZZ_LINK_fuzz_filter := $(LIB_SRC) tests/kprog_run.c
$(O)/fuzz/%: fuzz/%.c lib/*.c lib/*.h include/ipredir.h tests/*.h tests/*.c
	@mkdir -p $(@D)
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
		-Iinclude -Ilib -Itests $(MNL_CFLAGS) -o $@ $< $(FUZZ_LINK_$*) \
		$(MNL_LIBS) -lpthread
fuzz: $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		mkdir -p $(O)/fuzz/corpus-$$(basename $$f); \
		if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(O)/fuzz/corpus-$$(basename $$f) > $$f.log 2>&1; then \
			tail -n 40 $$f.log; echo "fuzz: $$f FAILED"; exit 1; fi; \
		grep -E 'stat::number_of_executed_units' $$f.log; \
	done

# Static analysis: clang-tidy (checks in .clang-tidy, each exclusion
# explained there) and cppcheck; any finding fails.
lint:
	$(Q)for f in $(LIB_SRC) $(TOOL_SRC); do \
		clang-tidy -quiet $$f -- -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib -Itools \
			2>/dev/null | grep -E 'warning:|error:' && exit 1; \
	done; echo "lint: clang-tidy clean"
	$(Q)cppcheck --quiet --enable=warning,portability,performance --std=c11 \
		-D_GNU_SOURCE -Iinclude -Ilib --inline-suppr --error-exitcode=1 lib tools
	$(Q)echo "lint: cppcheck clean"

# Long run: 8 TCP streams through passthru, SECONDS (default 1800).
SECONDS ?= 1800
soak: all
	$(Q)scripts/soak $(SECONDS)

bench: all
	$(Q)bench/run $(if $(QUICK),--quick) $(BENCH_ARGS)

# Man pages carry the version from the header; API pages (section 3) are
# installed with the development files.
MAN1 := $(sort $(wildcard man/*.1))
MAN3 := $(sort $(wildcard man/*.3))
MANSED := sed -e '1s/"ipredir [0-9.]*"/"ipredir $(VERSION)"/'

install: install-lib install-dev install-tool

install-lib: $(SHARED)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0644 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)

install-dev: $(STATIC) $(SHARED)
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man3
	install -m 0644 include/ipredir.h $(DESTDIR)$(INCDIR)/
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libipredir.so
	$(PCSED) ipredir.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ipredir.pc
	for m in $(MAN3); do $(MANSED) $$m > $(DESTDIR)$(MANDIR)/man3/$$(basename $$m); done

install-tool: $(TOOL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/ipredir
	install -m 0755 $(TOOL) $(DESTDIR)$(BINDIR)/
	for m in $(MAN1); do $(MANSED) $$m > $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	sed -e 's|@BINDIR@|$(BINDIR)|' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|' \
		systemd/ipredir@.service.in > $(DESTDIR)$(UNITDIR)/ipredir@.service
	install -m 0644 systemd/example.conf $(DESTDIR)$(SYSCONFDIR)/ipredir/example.conf.sample
	install -m 0644 completion/ipredir.bash $(DESTDIR)$(BASHCOMPDIR)/ipredir

# Removes exactly what install put there (same PREFIX, LIBDIR, DESTDIR).
uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libipredir.so $(DESTDIR)$(LIBDIR)/libipredir.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/ipredir.pc $(DESTDIR)$(INCDIR)/ipredir.h \
		$(DESTDIR)$(BINDIR)/ipredir $(DESTDIR)$(UNITDIR)/ipredir@.service \
		$(DESTDIR)$(SYSCONFDIR)/ipredir/example.conf.sample \
		$(DESTDIR)$(BASHCOMPDIR)/ipredir \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	-rmdir $(DESTDIR)$(SYSCONFDIR)/ipredir 2>/dev/null
	rm -rf $(DESTDIR)$(PYDIR)/ipredir

# The exported symbols against the header and the committed list (the
# version script), and a program that takes the address of every function
# the header declares, linked against the .so and run.
check-abi: $(SHARED) $(STATIC)
	$(Q)scripts/check-abi $(O)

# Debian packages (debian/), into $(O)/deb/.
deb:
	$(Q)scripts/deps --deb
	$(Q)scripts/mkdeb $(O)/deb

# The Python binding (python/ipredir, pure Python) for Debian's python3.
# The pydivert shim (python/compat) stays out: `import pydivert` is opt-in.
PYDIR ?= $(PREFIX)/lib/python3/dist-packages
install-python:
	install -d $(DESTDIR)$(PYDIR)/ipredir/pydivert/packet
	install -m 0644 python/ipredir/*.py $(DESTDIR)$(PYDIR)/ipredir/
	install -m 0644 python/ipredir/pydivert/*.py $(DESTDIR)$(PYDIR)/ipredir/pydivert/
	install -m 0644 python/ipredir/pydivert/packet/*.py $(DESTDIR)$(PYDIR)/ipredir/pydivert/packet/

clean:
	rm -rf $(O) build-san build-tsan

.PHONY: all tests-build deps vm-deps vmtest vmtest-all test unit demo check-sanitize check-tsan fuzz lint soak bench install install-lib install-dev install-tool install-python uninstall check-abi deb clean

# Header dependencies written by the compiler (-MMD -MP).
-include $(shell find $(O) -name '*.d' 2>/dev/null)
