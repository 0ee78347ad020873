/*
 * avl.c - a small AVL tree (avl.h); the fair class's timeline.
 *
 * Keys are unique (vruntime, then a sequence number), so "equal" never
 * happens and a node is found by comparing against it. Recursion depth
 * is the tree height, at most ~1.44 log2(n): a handful of frames.
 */
#include "avl.h"
#include "kernel.h"

typedef bool (*less_fn)(const struct avl_node *, const struct avl_node *);

static int height(const struct avl_node *n)
{
	return n ? n->height : 0;
}

static void update(struct avl_node *n)
{
	n->height = 1 + max(height(n->left), height(n->right));
}

static struct avl_node *rotate_right(struct avl_node *y)
{
	struct avl_node *x = y->left;
	y->left = x->right;
	x->right = y;
	update(y);
	update(x);
	return x;
}

static struct avl_node *rotate_left(struct avl_node *x)
{
	struct avl_node *y = x->right;
	x->right = y->left;
	y->left = x;
	update(x);
	update(y);
	return y;
}

static struct avl_node *rebalance(struct avl_node *n)
{
	update(n);
	int bf = height(n->left) - height(n->right);
	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct avl_node *insert(struct avl_node *root, struct avl_node *n, less_fn less)
{
	if (!root) {
		n->left = n->right = NULL;
		n->height = 1;
		return n;
	}
	if (less(n, root))
		root->left = insert(root->left, n, less);
	else
		root->right = insert(root->right, n, less);
	return rebalance(root);
}

static struct avl_node *remove_min(struct avl_node *root, struct avl_node **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = remove_min(root->left, min);
	return rebalance(root);
}

static struct avl_node *erase(struct avl_node *root, struct avl_node *n, less_fn less)
{
	BUG_ON(!root); /* n is not in the tree: the caller's bookkeeping is broken */
	if (root == n) {
		struct avl_node *l = n->left, *r = n->right, *m;
		if (!r)
			return l;
		r = remove_min(r, &m);
		m->left = l;
		m->right = r;
		return rebalance(m);
	}
	if (less(n, root))
		root->left = erase(root->left, n, less);
	else
		root->right = erase(root->right, n, less);
	return rebalance(root);
}

void avl_insert(struct avl_node **root, struct avl_node *n, less_fn less)
{
	*root = insert(*root, n, less);
}

void avl_erase(struct avl_node **root, struct avl_node *n, less_fn less)
{
	*root = erase(*root, n, less);
}

struct avl_node *avl_first(struct avl_node *root)
{
	while (root && root->left)
		root = root->left;
	return root;
}
