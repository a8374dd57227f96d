/* weird_out: invalid UTF-8, NUL, CR, ANSI escapes and a 1 MB line on stdout;
 * valid UTF-8 with NUL and CR on stderr.  The driver checks the bytes come
 * back exactly (stdout_base64). */
#include "hostile.h"
int main(void)
{
	static const char head[] = "A\xff\xfe\x80" "B\0C\r\n\x1b[31mred\x1b[0m\xc3\x28\xe2\x82\n";
	fwrite(head, 1, sizeof head - 1, stdout);
	for (int i = 0; i < (1 << 20); i++)
		putchar('a' + i % 26);
	putchar('\n');
	static const char err[] = "err\0or\r\n\xc3\xa9t\xc3\xa9\n";
	fwrite(err, 1, sizeof err - 1, stderr);
	return 0;
}
