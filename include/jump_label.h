/*
 * jump_label.h - static keys: a branch that costs a 4-byte `nop` until it
 * is switched, and is switched by rewriting the code (Linux's
 * static_branch_*()).
 *
 *	DEFINE_STATIC_KEY_FALSE(fancy);		(file scope, not static)
 *	if (static_branch_unlikely(&fancy))
 *		do_fancy();			(out of line: a `j` reaches it)
 *	static_branch_enable(&fancy);		(every site now jumps)
 *
 * Each use of static_branch_unlikely()/likely() is a site: one 4-byte
 * instruction (`.option norvc`, 4-aligned so a single store changes it),
 * either `nop` (fall through to the code after it) or `jal x0, target`
 * (the other path), recorded as (site, target, key) in the __jump_table
 * section (platform/riscv/kernel.ld). The instruction a site starts with
 * follows from the key's type (its initial value) and the kind of
 * branch, so no site needs patching at boot.
 *
 * static_branch_enable()/disable() set the key: a plain bool, not a
 * count (enable twice, disable once: disabled). They rewrite every site
 * of the key in one patch_text_batch(), i.e. one stop_machine(), then
 * set key->enabled (static_key_enabled() follows the code, never leads
 * it). Sites in no-patch text are allowed (patch.h says why).
 *
 * Lock order: jump_label_mutex -> text_mutex -> stop_cpus_mutex.
 */
#ifndef HARTSTOP_JUMP_LABEL_H
#define HARTSTOP_JUMP_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct static_key {
	int enabled; /* read with static_key_enabled(); written under jump_label_mutex */
	const char *name;
} __attribute__((aligned(8))); /* low bits of its address tag the table's entries */

struct static_key_true {
	struct static_key key;
};
struct static_key_false {
	struct static_key key;
};

/* One site: where, where its jump goes, and its key with the low bit
 * set if the site jumps when the key is enabled (an _unlikely() of a
 * false key or a _likely() of a true one: the code between is the
 * key's "off" path) and clear if it jumps when the key is disabled. */
struct jump_entry {
	unsigned long code, target, key;
};

#define __STATIC_KEY_REGISTER(name)                                                                \
	static struct static_key *const __static_key_ptr_##name                                    \
		__attribute__((section("__static_keys"), used)) = &(name).key

#define DEFINE_STATIC_KEY_TRUE(name)                                                               \
	struct static_key_true name = {{1, #name}};                                                \
	__STATIC_KEY_REGISTER(name)
#define DEFINE_STATIC_KEY_FALSE(name)                                                              \
	struct static_key_false name = {{0, #name}};                                               \
	__STATIC_KEY_REGISTER(name)
#define DECLARE_STATIC_KEY_TRUE(name)  extern struct static_key_true name
#define DECLARE_STATIC_KEY_FALSE(name) extern struct static_key_false name

/*
 * The site. @insn is "nop" or "j %l[l_yes]" (what the site holds at
 * build time), @jump_if_enabled the tag above. Returns true when the
 * jump is taken.
 */
#define __JUMP_SITE(key, insn, jump_if_enabled)                                                    \
	({                                                                                         \
		__label__ l_yes, l_no;                                                             \
		bool __taken = false;                                                              \
		__asm__ goto("	.align		2\n"                                                        \
			     "	.option push\n"                                                     \
			     "	.option norelax\n"                                                  \
			     "	.option norvc\n"                                                    \
			     "1:	" insn "\n"                                                \
			     "	.option pop\n"                                                      \
			     "	.pushsection	__jump_table, \"a\"\n"                                 \
			     "	.balign		8\n"                                                       \
			     "	.dword		1b, %l[l_yes], %0\n"                                        \
			     "	.popsection\n" ::"i"(&((char *)(key))[jump_if_enabled])::l_yes);   \
		goto l_no;                                                                         \
	l_yes:                                                                                     \
		__taken = true;                                                                    \
	l_no:                                                                                      \
		__taken;                                                                           \
	})

extern bool ____wrong_static_key_type(void);

/* True while the key is enabled; the enabled path is out of line. */
#define static_branch_unlikely(x)                                                                  \
	__builtin_choose_expr(                                                                     \
		__builtin_types_compatible_p(__typeof__(*(x)), struct static_key_false),           \
		__builtin_expect(__JUMP_SITE(&(x)->key, "nop", 1), 0),                             \
		__builtin_choose_expr(                                                             \
			__builtin_types_compatible_p(__typeof__(*(x)), struct static_key_true),    \
			__builtin_expect(__JUMP_SITE(&(x)->key, "j %l[l_yes]", 1), 0),             \
			____wrong_static_key_type()))

/* True while the key is enabled; the disabled path is out of line. */
#define static_branch_likely(x)                                                                    \
	__builtin_choose_expr(                                                                     \
		__builtin_types_compatible_p(__typeof__(*(x)), struct static_key_true),            \
		__builtin_expect(!__JUMP_SITE(&(x)->key, "nop", 0), 1),                            \
		__builtin_choose_expr(                                                             \
			__builtin_types_compatible_p(__typeof__(*(x)), struct static_key_false),   \
			__builtin_expect(!__JUMP_SITE(&(x)->key, "j %l[l_yes]", 0), 1),            \
			____wrong_static_key_type()))

static inline bool __static_key_enabled(const struct static_key *key)
{
	return __atomic_load_n(&key->enabled, __ATOMIC_RELAXED) != 0;
}
#define static_key_enabled(x) __static_key_enabled(&(x)->key)

int static_key_enable(struct static_key *key);
int static_key_disable(struct static_key *key);
#define static_branch_enable(x)	 static_key_enable(&(x)->key)
#define static_branch_disable(x) static_key_disable(&(x)->key)

/* The sites (the __jump_table section) and every key (__static_keys),
 * counted from the linker's bounds (platform/riscv/kernel.ld). */
extern const struct jump_entry __jump_table_start[], __jump_table_end[];
extern struct static_key *const __static_keys_start[], *const __static_keys_end[];
static inline size_t jump_table_entries(void)
{
	return ((uintptr_t)__jump_table_end - (uintptr_t)__jump_table_start) /
	       sizeof(struct jump_entry);
}
static inline size_t static_keys_count(void)
{
	return ((uintptr_t)__static_keys_end - (uintptr_t)__static_keys_start) /
	       sizeof(struct static_key *);
}

struct static_key *static_key_find(const char *name);
/* How many sites of the table belong to @key. */
int static_key_sites(const struct static_key *key);

#endif
