€Ð•ÿ¼1!
Node Control/Rebirth€Ð•ÿ¼1 p