function lodashProfileClaims(user, context, callback) {
  const _ = require('lodash');
  const profile = _.pick(user, ['email', 'email_verified', 'name']);
  context.idToken['https://example.com/profile'] = _.mapKeys(profile, (value, key) => _.camelCase(key));
  callback(null, user, context);
}
