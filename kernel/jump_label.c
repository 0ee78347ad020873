/*
 * jump_label.c - switching static keys (see jump_label.h).
 *
 * Enabling or disabling a key rewrites every site of it, each between a
 * 4-byte `nop` and a `jal x0, target`, in one patch_text_batch(): one
 * stop_machine() however many sites the key has, with every hart parked
 * while the sites change and every hart running fence.i before it
 * leaves. When static_key_enable() returns, every hart takes the new
 * path at its next pass over any site.
 */
#include <string.h>
#include "jump_label.h"
#include "kernel.h"
#include "mm.h"
#include "mutex.h"
#include "patch.h"
#include "preempt.h"

/* Serialises key changes: a key's state and its sites change together. */
static DEFINE_MUTEX(jump_label_mutex);

static struct static_key *entry_key(const struct jump_entry *e)
{
	return (struct static_key *)(e->key & ~1UL);
}

/* The instruction the site of @e holds while its key is @enabled. */
static int entry_insn(const struct jump_entry *e, bool enabled, uint32_t *insn)
{
	bool jump = enabled == (bool)(e->key & 1);
	long off = (long)(e->target - e->code);
	if (!jump) {
		*insn = RISCV_INSN_NOP;
		return 0;
	}
	if (off < -(1L << 20) || off >= (1L << 20) || (off & 1)) {
		pr_warn("static key: site 0x%lx cannot reach 0x%lx with a jal", e->code, e->target);
		return -ERANGE;
	}
	*insn = riscv_insn_jal(off);
	return 0;
}

static bool key_registered(const struct static_key *key)
{
	for (size_t i = 0; i < static_keys_count(); i++)
		if (__static_keys_start[i] == key)
			return true;
	return false;
}

/**
 * static_key_sites() - how many branch sites of the kernel test @key.
 * @key: the key.
 *
 * Context: any (the table is read-only).
 * Return: the number of __jump_table entries for @key (0 for NULL or an unknown key).
 */
int static_key_sites(const struct static_key *key)
{
	int n = 0;
	for (size_t i = 0; i < jump_table_entries(); i++)
		if (entry_key(&__jump_table_start[i]) == key)
			n++;
	return n;
}

/**
 * static_key_find() - the static key defined as @name (the shell's `key on|off NAME`).
 * @name: the name DEFINE_STATIC_KEY_*() was given.
 *
 * Context: any.
 * Return: the key, or NULL if there is none (or @name is NULL).
 */
struct static_key *static_key_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < static_keys_count(); i++)
		if (strcmp(__static_keys_start[i]->name, name) == 0)
			return __static_keys_start[i];
	return NULL;
}

static int static_key_set(struct static_key *key, bool enabled, const char *api)
{
	might_sleep();
	if (!key || !key_registered(key)) {
		pr_warn("%s: %p is not a static key (DEFINE_STATIC_KEY_*)", api, key);
		return -EINVAL;
	}
	mutex_lock(&jump_label_mutex);
	int rc = 0;
	if ((key->enabled != 0) == enabled)
		goto out;
	int n = static_key_sites(key), i = 0;
	if (n) {
		struct text_poke *pokes = kmalloc(sizeof(*pokes) * (size_t)n);
		if (!pokes) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < jump_table_entries() && !rc; j++) {
			const struct jump_entry *e = &__jump_table_start[j];
			uint32_t insn;
			if (entry_key(e) != key)
				continue;
			rc = entry_insn(e, enabled, &insn);
			pokes[i].addr = (void *)e->code;
			pokes[i].len = 4;
			memcpy(pokes[i].bytes, &insn, 4);
			i++;
		}
		if (!rc)
			rc = patch_text_batch(pokes, i, PATCH_ALLOW_NOPATCH);
		kfree(pokes);
	}
	if (!rc)
		__atomic_store_n(&key->enabled, enabled ? 1 : 0, __ATOMIC_RELAXED);
out:
	mutex_unlock(&jump_label_mutex);
	return rc;
}

/**
 * static_key_enable() - turn a static key on: every site of it takes its enabled path.
 * @key: the key (&name.key of a DEFINE_STATIC_KEY_*; static_branch_enable() passes it).
 *
 * Rewrites every site in one stop_machine(); a key already on is left alone. Not a count.
 *
 * Context: process context, may sleep (jump_label_mutex, then text_mutex, stop_machine()).
 * Return: 0; -EINVAL (with a warning) if @key is not a defined static key; -ERANGE (with a
 * warning) if a site cannot reach its target with one jal; -ENOMEM; or patch_text_batch()'s
 * error.
 */
int static_key_enable(struct static_key *key)
{
	return static_key_set(key, true, "static_key_enable");
}

/**
 * static_key_disable() - turn a static key off: every site of it takes its disabled path.
 * @key: the key.
 *
 * As static_key_enable(), the other way.
 *
 * Context: process context, may sleep.
 * Return: as static_key_enable().
 */
int static_key_disable(struct static_key *key)
{
	return static_key_set(key, false, "static_key_disable");
}
