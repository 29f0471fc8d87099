import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseplatform.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URL patterns: ~120,000 objects) lives
# as long as the process. A full garbage collection walks every tracked object while
# the process holds the GIL: about 80 ms of CPU here, a pause for every request in the
# process (measured for `make bench`, README "Benchmarks"). Frozen objects are left out
# of collections, so the pause covers only what requests create (and each process's
# page copies).
gc.freeze()
