-- The reader's experience (issue 17): the account's language now follows
-- the edition its reader uses and is changed from the site, so it must be
-- one kiosko speaks. Accounts created before with anything else (an empty
-- value, a region tag such as "es-ES" or "EN") get the closest supported
-- language, Spanish by default, as the rest of kiosko already assumed.
UPDATE accounts SET lang = 'en' WHERE lang <> 'en' AND lower(lang) LIKE 'en%';
UPDATE accounts SET lang = 'es' WHERE lang NOT IN ('es', 'en');
