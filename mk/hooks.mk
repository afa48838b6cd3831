# The webhook suite's driver: the dispatcher against tests/hooks/receiver.js.
$(B)/tests/hooks_driver: tests/hooks/driver.c $(B)/libtokenq.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libtokenq.a $(ALL_LDFLAGS) $(LIBS)
