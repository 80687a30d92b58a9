-- The device list shows the language each device reads in (issue 14,
-- item 7): the one its reader chose or the edition it reads, else its
-- browser's or app's language. Devices signed in before have none yet;
-- they get one with their next request.
ALTER TABLE devices ADD COLUMN lang TEXT NOT NULL DEFAULT '';
