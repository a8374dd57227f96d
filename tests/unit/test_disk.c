/*
 * What fits a cell's disk (sandbox_disk_*): the sums --box and the judge
 * check before a run, so that a box too large is refused with its reason
 * rather than failing inside the cell.  They must agree with the tmpfs
 * init mounts: size=disk_kb, nr_inodes=sandbox_disk_inodes(disk_kb).
 */
#include "sandbox/sandbox.h"
#include "test.h"

TEST(disk_bytes_are_whole_pages)
{
	ASSERT_EQ(sandbox_disk_bytes(0), 0);
	ASSERT_EQ(sandbox_disk_bytes(1), 4096);
	ASSERT_EQ(sandbox_disk_bytes(4096), 4096);
	ASSERT_EQ(sandbox_disk_bytes(4097), 8192);
	ASSERT_EQ(sandbox_disk_bytes(1ull << 30), 1ull << 30);
}

TEST(disk_inodes_one_per_4k_within_bounds)
{
	ASSERT_EQ(sandbox_disk_inodes(64), 1024);              /* the smallest disk */
	ASSERT_EQ(sandbox_disk_inodes(64 * 1024), 16384);      /* the default 64 MB */
	ASSERT_EQ(sandbox_disk_inodes(1ull << 40), 1048576);   /* capped */
}

TEST(disk_fits_at_the_edges)
{
	/* 1 MB: 1024 KB of pages and 1021 entries besides /box, /tmp, /dev/shm */
	ASSERT_TRUE(sandbox_disk_fits(1024, 1024 * 1024, 1));
	ASSERT_TRUE(!sandbox_disk_fits(1024, 1024 * 1024 + 4096, 1));
	ASSERT_TRUE(sandbox_disk_fits(1024, 0, 1021));
	ASSERT_TRUE(!sandbox_disk_fits(1024, 0, 1022));
}
