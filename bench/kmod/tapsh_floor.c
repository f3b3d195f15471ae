// SPDX-License-Identifier: GPL-2.0
/* The floor for probe overhead: a hand-written kprobe on vfs_read that only counts, per CPU. */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>

static DEFINE_PER_CPU(unsigned long, tapsh_floor_hits);

static int tapsh_floor_pre(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(tapsh_floor_hits);
	return 0;
}

static struct kprobe tapsh_floor_kp = {
	.symbol_name = "vfs_read",
	.pre_handler = tapsh_floor_pre,
};

static int __init tapsh_floor_init(void)
{
	return register_kprobe(&tapsh_floor_kp);
}

static void __exit tapsh_floor_exit(void)
{
	unsigned long sum = 0;
	int cpu;

	unregister_kprobe(&tapsh_floor_kp);
	for_each_possible_cpu(cpu)
		sum += per_cpu(tapsh_floor_hits, cpu);
	pr_info("tapsh_floor: %lu hits\n", sum);
}

module_init(tapsh_floor_init);
module_exit(tapsh_floor_exit);
MODULE_LICENSE("GPL");
