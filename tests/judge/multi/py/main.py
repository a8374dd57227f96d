import helper
helper.greet()
