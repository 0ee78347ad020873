/*
 * avl.h - a small intrusive AVL tree (kernel/lib/avl.c).
 *
 * The node lives inside the object (container_of() gets it back); the
 * caller orders nodes with its own less(). The fair class keys its tree
 * by (vruntime, seq). No locking: the caller's lock guards the tree.
 */
#ifndef HARTSTOP_AVL_H
#define HARTSTOP_AVL_H

#include <stdbool.h>

struct avl_node {
	struct avl_node *left, *right;
	int height;
};

void avl_insert(struct avl_node **root, struct avl_node *n,
		bool (*less)(const struct avl_node *, const struct avl_node *));
void avl_erase(struct avl_node **root, struct avl_node *n,
	       bool (*less)(const struct avl_node *, const struct avl_node *));
struct avl_node *avl_first(struct avl_node *root); /* the least, or NULL */

#endif
