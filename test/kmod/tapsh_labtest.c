// SPDX-License-Identifier: GPL-2.0
/* A minimal module the lab tests build with kbuild and load into the lab VM's kernel. */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/printk.h>

static char *tag = "none";
module_param(tag, charp, 0444);
MODULE_PARM_DESC(tag, "word echoed to the kernel log so the test can find this load");

static int __init tapsh_labtest_init(void)
{
	pr_info("tapsh_labtest: loaded, tag=%s\n", tag);
	return 0;
}

static void __exit tapsh_labtest_exit(void)
{
	pr_info("tapsh_labtest: unloaded, tag=%s\n", tag);
}

module_init(tapsh_labtest_init);
module_exit(tapsh_labtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tapsh lab VM smoke-test module");
