/* A program whose binary (about 20 MB of initialised data) is larger
 * than a 10 MB run disk: its verdict is compile_error, not internal_error. */
char big[20 << 20] = { 1 };

int main(void)
{
	return big[5];
}
